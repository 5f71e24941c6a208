"""Where the tool keeps files: directories, atomic writes, the project lock, the
journal and saved plans.
"""

"""The downtime bench's pure parts: the probe's lines, the gaps, the table, the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from state.resolve.table import load_table
from tests.bench import downtime_project
from tests.bench.downtime import NOT_HONOURED, Measured, ProbeStats, parse, summarize, table


def test_the_probe_lines_parse_per_service_and_torn_lines_are_skipped() -> None:
    lines = ["s009 10.00 ok", "s019 10.01 fail", "s009 10.10 fail", "s009 10.2", "junk", "x y z"]
    assert parse(lines) == {"s009": [(10.0, True), (10.1, False)], "s019": [(10.01, False)]}


def test_the_longest_gap_runs_from_the_first_failure_to_the_next_answer() -> None:
    answered = [True, False, False, True, True, False, False, False, False, True, True]
    samples = [(100 + i * 0.1, ok) for i, ok in enumerate(answered)]
    stats = summarize(samples, since=0, until=1000)
    assert (stats.sent, stats.failed, stats.recovered) == (11, 6, True)
    assert stats.longest_gap_ms == pytest.approx(400)  # 100.5 fails ... 100.9 answers


def test_a_service_still_down_when_the_probe_stops_is_not_back() -> None:
    samples = [(1.0, True), (1.5, False), (2.0, False), (3.0, False)]
    stats = summarize(samples, since=0, until=10)
    assert (stats.sent, stats.failed, stats.recovered) == (4, 3, False)
    assert stats.longest_gap_ms == pytest.approx(1500)  # to the last request sent


def test_only_requests_started_inside_the_window_count() -> None:
    samples = [(1.0, False), (2.0, True), (3.0, False), (3.5, True), (9.0, False)]
    stats = summarize(samples, since=1.5, until=5)
    assert (stats.sent, stats.failed) == (3, 1)
    assert stats.longest_gap_ms == pytest.approx(500)
    assert summarize([(2.0, True)], since=0, until=5) == ProbeStats(1, 0, 0.0, True)


def test_the_table_shows_each_column_and_the_unhonoured_one_without_numbers() -> None:
    measured = Measured(True, 12.34, (("s009", ProbeStats(100, 7, 1234.0, True)),))
    down = Measured(True, 3.0, (("s009", ProbeStats(20, 20, 2000.0, False)),))
    results = {
        "ours stop-first": {"env switch prod -> dev": [measured]},
        "ours start-first": {"env switch prod -> dev": [Measured(False)]},
        "compose": {"env switch prod -> dev": [down]},
    }
    text = table(10, results, ["s009"])
    row = next(line for line in text.splitlines() if line.startswith("env switch"))
    assert "7/100 failed, gap 1234 ms" in row
    assert NOT_HONOURED in row
    assert "20/20 failed, gap 2000 ms (not back)" in row
    assert "12.3 s" in text
    config = next(line for line in text.splitlines() if line.startswith("config change"))
    assert config.split()[-1] == "-"  # not measured: no numbers invented


def test_repetitions_sum_the_requests_and_show_the_median_and_worst_gap() -> None:
    runs = [
        Measured(True, wall, (("s009", ProbeStats(100, failed, gap, True)),))
        for wall, failed, gap in ((10.0, 5, 1000.0), (14.0, 0, 0.0), (11.0, 9, 2500.0))
    ]
    text = table(10, {"compose": {"config change of one service": runs}}, ["s009"])
    row = next(line for line in text.splitlines() if line.startswith("config change"))
    assert "14/300 failed, gap med 1000, max 2500 ms" in row
    assert "11.0 s (median of 3)" in text
    assert "3 repetition(s)" in text
    calm = [Measured(True, 1.0, (("s019", ProbeStats(90, 0, 0.0, True)),))] * 2
    text = table(10, {"compose": {"config change of one service": calm}}, ["s019"])
    assert "0/180 failed, no gap" in text


def test_the_project_publishes_one_web_service_per_ten_and_bump_changes_only_it(
    tmp_path: Path,
) -> None:
    project = downtime_project.create(tmp_path, 20, "startfirst", start_first=True)
    path = project.directory / "compose" / "compose.yaml"
    assert load_table(project.directory / "compose")["dev"].profiles == ("dev",)
    webs = downtime_project.published(project.specs)
    assert webs == ["s009", "s019"]
    assert not any(dep in webs for s in project.specs for dep, _ in s.depends_on)
    before = path.read_text()
    assert before.count('ports: ["8080"]') == 2  # an ephemeral host port: it can run twice
    assert before.count("order: start-first") == 2
    assert "container_name" not in before
    assert before.count("<<: *service") == 18  # the others as in the synthetic project
    downtime_project.bump(project, "s009")
    changed = set(path.read_text().splitlines()) ^ set(before.splitlines())
    assert changed == {'      WEB_REVISION: "s009-1"', '      WEB_REVISION: "s009-2"'}
    downtime_project.bump(project, "s009")  # each repetition's change is a new one
    assert 'WEB_REVISION: "s009-3"' in path.read_text()
    with pytest.raises(ValueError, match="s000 is not a published service"):
        downtime_project.bump(project, "s000")
    stop_first = downtime_project.create(tmp_path, 10, "stopfirst", start_first=False)
    text = (stop_first.directory / "compose" / "compose.yaml").read_text()
    assert "start-first" not in text
    assert text.count('ports: ["8080"]') == 1

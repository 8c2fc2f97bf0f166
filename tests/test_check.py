"""`coachbot check` on broken fixtures gives the expected codes; JSON report; real scripts."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from bot.cli.tools import check_command
from dialogues import Problem, check_library, load_library
from dialogues.problems import CODES
from dialogues.tokens import MAX_BYTES, max_token_bytes

FIXTURES = Path(__file__).parent / "fixtures"
CHECK = FIXTURES / "check"
ARTICLES = FIXTURES / "articles"
LINE = re.compile(r"^(?P<code>[EW]\d{3}) (?P<file>[^:]+):(?P<line>\d+): .+[.?!]$")

# case folder -> the exact (code, line) pairs `coachbot check` must report
EXPECTED: dict[str, list[tuple[str, int]]] = {
    "yaml_error": [("E001", 5)],
    "structure": [("E002", 1)],
    "unknown_key": [("E002", 10)],
    "duplicate_id": [("E003", 1)],
    "duplicate_node": [("E004", 11)],
    "unknown_target": [("E005", 12)],
    "unknown_dialogue": [("E006", 9), ("E006", 13)],
    "two_kinds": [("E007", 8), ("E007", 14)],
    "unreachable": [("E008", 11)],
    "dead_end": [("E009", 13), ("E009", 17)],
    "undeclared": [("E010", 12), ("E010", 13), ("E010", 13), ("E010", 14)],
    "template_error": [("E011", 10)],
    "render_error": [("E011", 10), ("E011", 11)],
    "too_long": [("E012", 10), ("W001", 11)],
    "label_too_long": [("E014", 11), ("E021", 13)],
    "source": [("E015", 3)],
    "menu": [("E016", 1), ("W005", 1), ("W005", 3), ("E016", 2), ("W004", 1)],
    "html": [("E017", 10), ("E017", 11), ("E017", 12)],
    "bad_id": [("E018", 1), ("E018", 8)],
    "set_add": [("E019", 13), ("E019", 14)],
    "silent_loop": [("E020", 10)],
    "call_cycle": [("E020", 9), ("E020", 9)],
    "bad_values": [("E021", 11), ("E021", 13), ("E021", 20)],
    "empty": [("E022", 8), ("E022", 12)],
    "warnings": [("W003", 1), ("W006", 7)],
    "keep_and_scores": [("E004", 11), ("E002", 25), ("W007", 17), ("E019", 19)],
    "linkable": [("E021", 6), ("E002", 6)],
    "reflection_flag": [("E002", 7)],
}


def run_check(
    paths: list[str], as_json: bool = False, articles: Path = ARTICLES
) -> tuple[int, str]:
    out = io.StringIO()
    code = check_command(paths, as_json, out=out, articles=articles)
    return code, out.getvalue()


def test_every_case_folder_is_listed() -> None:
    assert sorted(p.name for p in CHECK.iterdir() if p.is_dir()) == sorted(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_broken_fixture_gives_expected_codes(case: str) -> None:
    code, output = run_check([str(CHECK / case)])
    lines = output.splitlines()
    problems = [LINE.match(line) for line in lines[:-1]]
    assert all(problems), output  # every problem is one well-formed line
    found = sorted((m["code"], int(m["line"])) for m in problems if m)
    assert found == sorted(EXPECTED[case]), output
    assert code == (1 if any(c.startswith("E") for c, _ in EXPECTED[case]) else 0)
    assert all(m["code"] in CODES for m in problems if m)
    assert re.match(r"^\d+ files, \d+ dialogues: \d+ errors, \d+ warnings\.$", lines[-1])


def test_problem_one_line_form() -> None:
    problem = Problem("E012", "dialogues/scripts/x.yaml", 41, "too long", "Split it")
    assert str(problem) == "E012 dialogues/scripts/x.yaml:41: too long. Split it."


def test_clean_fixture_library_passes() -> None:
    code, output = run_check([str(FIXTURES / "lib")])
    assert code == 0, output
    assert output.strip().endswith("0 errors, 0 warnings.")


def test_one_file_is_checked_with_its_folder() -> None:
    # z.yaml alone: the menu still resolves, and only z's own problem is shown
    code, output = run_check([str(CHECK / "menu" / "z.yaml")])
    assert code == 0
    assert [line.split()[0] for line in output.splitlines()[:-1]] == ["W004"]
    code, output = run_check([str(CHECK / "menu" / "menu.yaml")])
    assert code == 1 and "bestaat-niet" in output and "W004" not in output


def test_missing_articles_folder_is_a_warning(tmp_path: Path) -> None:
    code, output = run_check([str(CHECK / "source")], articles=tmp_path / "nergens")
    assert code == 0
    assert output.splitlines()[0].startswith("W002 ")


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    code, output = run_check([str(tmp_path / "nope.yaml")])
    assert code == 1 and output.startswith("E001 ")


def test_unreadable_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_bytes(b"id: x\n\xff\xfe\x00 kapot")
    (tmp_path / "y.yaml").write_text("- gewoon\n- een lijst\n")
    (tmp_path / "z.yaml").write_text("")
    lib, problems = load_library(tmp_path)
    problems += check_library(lib)
    assert sorted(p.code for p in problems) == ["E001", "E002", "E002"]
    assert lib.dialogues == {}


def test_json_report() -> None:
    code, output = run_check([str(FIXTURES / "lib")], as_json=True)
    report = json.loads(output)
    assert code == 0 and report["errors"] == [] and report["warnings"] == []
    stats = {d["id"]: d for d in report["dialogues"]}
    assert sorted(stats) == [
        "ademhaling",
        "checkin-a",
        "kennismaking",
        "reflectie",
        "stokt-2",
        "stokt-3",
    ]
    assert stats["stokt-2"] == {
        "id": "stokt-2",
        "title": "De dans van trekken en duwen",
        "source": "000_de9926bb285b4014.txt",
        "nodes": 12,
        "messages": 9,
        "max_message_chars": 80,  # with the sample answer in it
        "choices": 7,
        "free_text_questions": 1,
    }
    assert stats["kennismaking"]["free_text_questions"] == 1


def test_json_report_with_errors() -> None:
    code, output = run_check([str(CHECK / "too_long")], as_json=True)
    report = json.loads(output)
    assert code == 1
    assert [e["code"] for e in report["errors"]] == ["E012"]
    assert [w["code"] for w in report["warnings"]] == ["W001"]
    assert set(report["errors"][0]) == {"code", "file", "line", "message", "hint", "severity"}
    assert report["dialogues"][0]["max_message_chars"] == 5000


def test_button_data_always_fits() -> None:
    assert max_token_bytes(100) <= MAX_BYTES  # Telegram allows at most 100 buttons


def test_real_scripts_pass_the_check() -> None:
    code, output = run_check(
        [], articles=Path(__file__).resolve().parents[2] / "shared" / "articles"
    )
    errors = [line for line in output.splitlines() if line.startswith("E")]
    assert code == 0 and errors == [], output

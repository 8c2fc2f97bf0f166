"""`coachbot graph` and `coachbot play` on fixture scripts."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from bot.cli.tools import graph_command, play_command, to_dot, to_mermaid
from dialogues import load_library

LIB = Path(__file__).parent / "fixtures" / "lib"
STOKT2 = str(LIB / "stokt-2.yaml")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_graph_with_graphviz(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"stokt-2{suffix}"
    out = io.StringIO()
    assert graph_command(STOKT2, str(target), out=out) == 0
    data = target.read_bytes()
    if suffix == ".svg":
        text = data.decode()
        assert "<svg" in text and "uitleg" in text and "Ik zoek vaak" in text
    else:
        assert data.startswith(b"\x89PNG")
    assert "12 nodes" in out.getvalue()


def test_graph_mermaid_by_extension(tmp_path: Path) -> None:
    target = tmp_path / "stokt-2.mmd"
    assert graph_command(STOKT2, str(target), out=io.StringIO()) == 0
    text = target.read_text()
    assert text.splitlines()[3] == "flowchart TD"
    assert 'n_uitleg -- "Ik zoek vaak" --> n_lijf' in text
    assert "n_tak{" in text and "[oefening: ademhaling]" in text


def test_graph_falls_back_to_mermaid_without_dot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.cli.tools.shutil.which", lambda name: None)
    out = io.StringIO()
    assert graph_command(STOKT2, str(tmp_path / "g.svg"), out=out) == 0
    assert not (tmp_path / "g.svg").exists()
    assert (tmp_path / "g.mmd").read_text().startswith("---\ntitle: De dans")
    assert "Mermaid" in out.getvalue()


def test_graph_by_id_and_dot_source(tmp_path: Path) -> None:
    assert graph_command("checkin-a", str(tmp_path / "c.dot"), out=io.StringIO(), path=LIB) == 0
    text = (tmp_path / "c.dot").read_text()
    assert text.startswith('digraph "checkin-a"') and '"vraag" -> "zwaar" [label="Zwaar"]' in text


def test_graph_unknown_dialogue(tmp_path: Path) -> None:
    out = io.StringIO()
    assert graph_command("bestaat-niet", str(tmp_path / "x.svg"), out=out, path=LIB) == 1
    assert "no dialogue 'bestaat-niet'" in out.getvalue()


def test_graph_text_covers_every_node() -> None:
    lib, _ = load_library(LIB)
    for dialogue in lib.dialogues.values():
        dot, mermaid = to_dot(dialogue), to_mermaid(dialogue)
        for node_id in dialogue.nodes:
            assert f'"{node_id}"' in dot
            assert "n_" + node_id.replace("-", "_") in mermaid


def test_play_walks_a_dialogue() -> None:
    out = io.StringIO()
    typed = "1\n1\nmijn <b>maag</b>\n1\n2\n"
    assert play_command(STOKT2, inp=io.StringIO(typed), out=out) == 0
    text = out.getvalue()
    assert "Hoi Sam, fijn dat je er weer bent." in text
    assert "  1) Vertel\n  2) Liever een andere keer" in text
    assert "Stap 1 van 4" in text and "<i>" not in text
    assert "[saved in the journal: lijf_signaal]" in text
    assert "Je schreef: mijn <b>maag</b>." in text  # shown plainly, as the client typed it
    assert "[follow-up: stokt-3 after 24 hours]" in text
    assert text.rstrip().endswith("== einde ==")


def test_play_text_on_buttons_and_quit() -> None:
    out = io.StringIO()
    assert play_command("checkin-a", inp=io.StringIO("7\nq\n"), out=out, path=LIB, seed=1) == 0
    assert "Tik op een van de knoppen" in out.getvalue()  # 7 is no button: free text


def test_play_stops_at_end_of_input() -> None:
    out = io.StringIO()
    assert play_command("checkin-a", inp=io.StringIO(""), out=out, path=LIB) == 0
    assert "hoe voel je je vandaag?" in out.getvalue()


def test_play_unknown_dialogue() -> None:
    out = io.StringIO()
    assert play_command("bestaat-niet", inp=io.StringIO(""), out=out, path=LIB) == 1

"""`game bot` as a user runs it: a subprocess against a real server, output asserted."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.support import ROOT, ServerProcess, free_port

SUMMARY = re.compile(r"Final score after (\d+) of (\d+) games: W (\d+)  L (\d+)  D (\d+)")


def game_bot(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "game", "bot", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str]:
    out, _ = process.communicate(timeout=timeout)
    return process.returncode, out


def score(out: str) -> tuple[int, int, int, int, int]:
    found = SUMMARY.search(out)
    assert found, out
    played, total, wins, losses, draws = (int(g) for g in found.groups())
    return played, total, wins, losses, draws


def test_game_bot_plays_n_games_against_a_builtin_bot(server: ServerProcess) -> None:
    code, out = finish(game_bot(server.ws, "--bot", "hard", "--games", "3", "--game",
                                "tictactoe", "--vs-bot", "medium", "--codec", "msgpack"))
    assert code == 0, out
    played, total, wins, losses, draws = score(out)
    assert played == total == 3 and wins + losses + draws == 3
    assert losses == 0  # perfect tic-tac-toe never loses
    for index in (1, 2, 3):
        assert f"game {index}/3: " in out


def test_two_game_bots_meet_in_the_queue(server: ServerProcess) -> None:
    greedy = game_bot(server.ws, "--bot", "examples/sdk_bot.py:GreedyBot", "--games", "2",
                      "--queue", "--name", "greedy")
    easy = game_bot(server.ws, "--bot", "easy", "--games", "2", "--queue", "--codec", "msgpack")
    (code_a, out_a), (code_b, out_b) = finish(greedy), finish(easy)
    assert code_a == 0 and code_b == 0, (out_a, out_b)
    _, _, wins_a, losses_a, draws_a = score(out_a)
    _, _, wins_b, losses_b, draws_b = score(out_b)
    assert wins_a + losses_a + draws_a == 2
    assert (wins_a, losses_a, draws_a) == (losses_b, wins_b, draws_b)
    assert "vs greedy" in out_b


def test_game_bot_reports_bad_arguments_and_unreachable_servers(server: ServerProcess) -> None:
    code, out = finish(game_bot(server.ws, "--bot", "nosuchmodule:Bot"))
    assert code == 2 and "error" in out
    code, out = finish(game_bot(server.ws, "--bot", "random", "--vs-bot", "genius"))
    assert code == 2 and "invalid choice" in out
    code, out = finish(game_bot(f"ws://127.0.0.1:{free_port()}/ws", "--bot", "random"))
    assert code == 1 and "error" in out
    assert score(out)[0] == 0

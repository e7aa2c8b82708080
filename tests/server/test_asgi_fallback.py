"""The ASGI route (`GAME_WEBSOCKET=asgi`: uvicorn's websockets-sansio protocol and
Starlette) still serves the whole protocol: a representative subset of the play, error,
resilience and hostile-input tests, run against a server in that mode. The session
logic is the one the native endpoint uses (game.server.session); what differs is the
transport, which these tests exercise end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile import test_frames, test_handshake
from tests.hostile.conftest import serving
from tests.server import test_errors, test_play, test_resilience
from tests.support import ServerProcess, connect, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(Path(tmp_path_factory.mktemp("asgi")), websocket="asgi")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from serving(tmp_path_factory.mktemp("asgi-hostile"), websocket="asgi",
                       hello_timeout=1.0, close_timeout=1.0,
                       allowed_origins=["https://friend.example"], watchers_flush_ms=20)


async def test_the_server_really_runs_the_asgi_route(server: ServerProcess) -> None:
    async with connect(server) as client:
        await client.hello()
    assert '"websocket":"asgi"' in server.logs().replace(" ", "")
    assert "WebSocket /ws" in server.logs()  # uvicorn's own access line for ASGI sockets


test_quick_match_plays_to_the_end = test_play.test_quick_match_plays_to_the_end
test_room_code_and_a_spectator = test_play.test_room_code_and_a_spectator
test_a_match_against_each_bot_level_ends = test_play.test_a_match_against_each_bot_level_ends
test_error_codes_leave_the_match_unharmed = test_errors.test_error_codes_leave_the_match_unharmed
test_resent_move_is_acknowledged_once = test_errors.test_resent_move_is_acknowledged_once
test_undecodable_frame_closes_1007 = test_errors.test_undecodable_frame_closes_1007
test_newer_connection_takes_over = test_resilience.test_newer_connection_takes_over
test_rematch_swaps_seats = test_resilience.test_rematch_swaps_seats
test_foreign_origin_is_refused_with_403 = test_handshake.test_foreign_origin_is_refused_with_403
test_no_hello_closes_with_1008 = test_handshake.test_no_hello_closes_with_1008
test_frames_over_the_limit_close_1009 = test_frames.test_frames_over_the_limit_close_1009
test_wrong_shapes_get_errors_and_change_nothing = (
    test_frames.test_wrong_shapes_get_errors_and_change_nothing)

"""The match record's lifecycle guard: every phase change goes through `advance`."""

from __future__ import annotations

import pytest

from game.core.model import InvalidTransition, Phase, advance

ALLOWED = {(Phase.WAITING, Phase.ACTIVE), (Phase.WAITING, Phase.FINISHED),
           (Phase.ACTIVE, Phase.FINISHED)}


@pytest.mark.parametrize("current", list(Phase))
@pytest.mark.parametrize("to", list(Phase))
def test_only_forward_phase_changes_are_allowed(current: Phase, to: Phase) -> None:
    if (current, to) in ALLOWED:
        assert advance(current, to) is to
    else:
        with pytest.raises(InvalidTransition):
            advance(current, to)

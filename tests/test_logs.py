"""Logging of pipeline steps: library notices that tell the user nothing stay out of the logs."""

from __future__ import annotations

import logging

from mame.logs import quiet_library_notices


def test_the_torchvision_notice_is_dropped_and_other_warnings_kept(caplog):
    quiet_library_notices()
    quiet_library_notices()  # idempotent: one filter, however often a process asks
    logger = logging.getLogger("transformers.utils.import_utils")
    assert len(logger.filters) == 1
    with caplog.at_level(logging.WARNING):
        logger.warning("`SiglipImageProcessor` requires torchvision (not installed); falling back")
        logger.warning("a warning worth reading")
    assert [r.getMessage() for r in caplog.records] == ["a warning worth reading"]

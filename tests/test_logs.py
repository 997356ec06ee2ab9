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


def test_library_warnings_are_collected_and_logged_once_per_kind_with_their_count(caplog):
    """VinDr's md5 UIDs make pydicom warn and log once per file; a job logs one line with the count."""
    import logging

    from pydicom.misc import warn_and_log

    from mame.logs import WarningTally, library_messages

    tally = WarningTally()
    with caplog.at_level("DEBUG"):
        for n in range(5):
            with library_messages() as caught:
                warn_and_log(f"Invalid value for VR UI: '{n:032x}'. Please see the standard")
                logging.getLogger("pydicom").error("Traceback line one\nand the rest")
            tally.add_all(caught)
        assert not caplog.records  # nothing reached the console or the log while files were read
        tally.log_summary(logging.getLogger("test"), "index x")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert "UserWarning raised 5 time(s): Invalid value for VR UI: '…'" in lines[0]
    assert "pydicom ERROR raised 5 time(s): Traceback line one" in lines[1] and "the rest" not in lines[1]

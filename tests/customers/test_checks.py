"""The customers app's system checks: the partitions' settings."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from customers.checks import check_event_partitions


@pytest.mark.parametrize("months", [0, 3, 12])
def test_retention_off_or_at_least_three_months_passes(settings, months):
    settings.EVENTS_RETENTION_MONTHS = months
    assert check_event_partitions(None) == []


@pytest.mark.parametrize("months", [-1, 1, 2])
def test_a_retention_shorter_than_the_context_reads_is_an_error(settings, months):
    settings.EVENTS_RETENTION_MONTHS = months
    (error,) = check_event_partitions(None)
    assert error.id == "customers.E001"
    assert f"EVENTS_RETENTION_MONTHS is {months}" in error.msg


def test_no_partition_made_ahead_is_an_error(settings):
    settings.EVENTS_PARTITIONS_AHEAD = 0
    assert [e.id for e in check_event_partitions(None)] == ["customers.E002"]


def test_manage_py_check_reports_it(settings):
    settings.EVENTS_RETENTION_MONTHS = 2
    with pytest.raises(SystemCheckError, match=r"customers\.E001"):
        call_command("check")

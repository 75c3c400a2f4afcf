import datetime
from zoneinfo import ZoneInfo

import pytest

from portal.services import deadlines
from portal.services.deadlines import PARIS, DeadlineRule

UTC = ZoneInfo("UTC")


def test_n_days_before_rule_gives_that_day_at_that_time_in_paris():
    rule = DeadlineRule("days_before", days=2, time=datetime.time(10, 0))
    assert deadlines.deadline(rule, datetime.date(2026, 9, 14)) == datetime.datetime(
        2026, 9, 12, 10, 0, tzinfo=PARIS)


def test_working_days_rule_skips_weekends():
    rule = DeadlineRule("days_before", days=2, working_days=True, time=datetime.time(10, 0))
    # Monday 14 September 2026: two working days before is Thursday 10.
    assert deadlines.deadline(rule, datetime.date(2026, 9, 14)).date() == datetime.date(2026, 9, 10)


def test_working_days_rule_skips_public_holidays():
    rule = DeadlineRule("days_before", days=2, working_days=True, time=datetime.time(10, 0))
    # Friday 13 November 2026: Thursday 12, then Wednesday 11 is Armistice day, so Tuesday 10.
    assert deadlines.deadline(rule, datetime.date(2026, 11, 13)).date() == datetime.date(2026, 11, 10)


@pytest.mark.parametrize("day", [datetime.date(2026, 9, 14), datetime.date(2026, 9, 16),
                                 datetime.date(2026, 9, 18)])
def test_weekly_rule_gives_the_weekday_of_the_previous_week(day):
    rule = DeadlineRule("weekly", weekday=3, time=datetime.time(23, 59))
    assert deadlines.deadline(rule, day) == datetime.datetime(2026, 9, 10, 23, 59, tzinfo=PARIS)


def test_deadline_on_the_spring_forward_sunday_uses_summer_time():
    # Sunday 28 March 2027 clocks go forward: 10:00 in Paris is 08:00 UTC that day.
    rule = DeadlineRule("days_before", days=2, time=datetime.time(10, 0))
    limit = deadlines.deadline(rule, datetime.date(2027, 3, 30))
    assert limit == datetime.datetime(2027, 3, 28, 8, 0, tzinfo=UTC)


def test_deadline_on_the_fall_back_sunday_uses_winter_time():
    rule = DeadlineRule("days_before", days=2, time=datetime.time(10, 0))
    limit = deadlines.deadline(rule, datetime.date(2026, 10, 27))
    assert limit == datetime.datetime(2026, 10, 25, 9, 0, tzinfo=UTC)


def test_weekly_deadline_across_the_dst_change_keeps_local_time():
    # Week of Monday 29 March 2027; the Thursday before (25 March) is still in winter time.
    rule = DeadlineRule("weekly", weekday=3, time=datetime.time(23, 59))
    limit = deadlines.deadline(rule, datetime.date(2027, 3, 31))
    assert limit == datetime.datetime(2027, 3, 25, 22, 59, tzinfo=UTC)


def test_a_deadline_is_inclusive_to_the_second():
    rule = DeadlineRule("days_before", days=2, time=datetime.time(10, 0))
    limit = deadlines.deadline(rule, datetime.date(2026, 9, 14))
    assert deadlines.is_before(rule, datetime.date(2026, 9, 14), limit)
    assert deadlines.is_before(rule, datetime.date(2026, 9, 14), limit - datetime.timedelta(seconds=1))
    assert not deadlines.is_before(rule, datetime.date(2026, 9, 14), limit + datetime.timedelta(seconds=1))


def test_public_holidays_come_from_the_holidays_package_in_french():
    assert deadlines.public_holiday_name(datetime.date(2027, 3, 29)) == "Lundi de Pâques"
    assert deadlines.public_holiday_name(datetime.date(2027, 3, 30)) is None
    assert not deadlines.is_working_day(datetime.date(2026, 11, 11))


def test_school_holidays_of_zone_b_are_read_offline_as_periods():
    periods = deadlines.school_holidays("B", datetime.date(2026, 9, 1), datetime.date(2027, 7, 31))
    names = [name for name, _start, _end in periods]
    assert "Vacances de la Toussaint" in names and "Vacances de Noël" in names
    toussaint = next(p for p in periods if p[0] == "Vacances de la Toussaint")
    assert toussaint[1] <= datetime.date(2026, 10, 26) <= toussaint[2]
    assert all(start <= end for _name, start, end in periods)


def test_month_days_lists_every_day_of_the_month():
    days = deadlines.month_days(2027, 2)
    assert days[0] == datetime.date(2027, 2, 1) and days[-1] == datetime.date(2027, 2, 28)
    assert len(deadlines.month_days(2026, 12)) == 31

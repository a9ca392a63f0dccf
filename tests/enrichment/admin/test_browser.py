"""End to end in a real headless Chromium (Debian's /usr/bin/chromium driven by
Playwright; never ``playwright install``): log in, filter the customer list to
at-risk accounts, open customer_at_risk, check its red flags, copy the prompt
block, refresh the context, visit customer_123 and the dashboard; and the first
screen (1440 x 1000) of customer_at_risk, plain and opened from a ticket, with
everything the next reply needs above 1,000 px. Screenshots go to
``test-artifacts/`` (gitignored)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FIRST_SCREEN = 1000  # px: what a 1440 x 1000 window shows without scrolling
RED = "rgb(201, 42, 42)"  # --cc-critical
GREEN = "rgb(27, 127, 59)"  # --cc-good


@pytest.fixture
def seeded_live_server(live_server, monkeypatch):
    call_command("seed_demo", customers=12, stdout=StringIO())
    # Playwright's sync API runs an event loop in this thread; the test itself
    # only drives the browser, the live server thread does the database work.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    return live_server


@pytest.fixture
def page(seeded_live_server):
    if not CHROMIUM.exists():
        pytest.fail(
            "Chromium is missing: apt-get install -y chromium (the CI script installs it). "
            "Playwright must use the system browser, never `playwright install`."
        )
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": FIRST_SCREEN}, base_url=seeded_live_server.url)
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=seeded_live_server.url)
            page = context.new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


def _no_horizontal_overflow(page, selector: str) -> bool:
    """Nothing inside ``selector`` sticks out of its content box (padding included)."""
    return page.eval_on_selector(
        selector,
        """el => {
            if (el.scrollWidth > el.clientWidth + 1) return false;
            const box = el.getBoundingClientRect();
            const style = getComputedStyle(el);
            const right = box.right - parseFloat(style.borderRightWidth) - parseFloat(style.paddingRight);
            return [...el.querySelectorAll("table")].every(t => t.getBoundingClientRect().right <= right + 1);
        }""",
    )


def _log_in(page) -> None:
    """Log in as the seeded superuser."""
    page.goto("/admin/")
    assert "/admin/login/" in page.url
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin")
    page.click("input[type=submit]")
    page.wait_for_selector("text=Customer health dashboard")


def test_support_staff_finds_and_reads_an_at_risk_account(page):
    _log_in(page)

    # The customer list: health badges for everyone, no horizontal overflow.
    page.goto("/admin/customers/customer/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 15
    assert page.locator("#result_list .cc-badge").count() == 15
    assert _no_horizontal_overflow(page, "#changelist .results")
    page.screenshot(path=ARTIFACTS / "admin_customer_list.png", full_page=True)

    # Filter to at-risk accounts with the sidebar filter.
    page.locator("#changelist-filter a", has_text="At Risk or Critical").click()
    page.wait_for_url("**health=attention**")
    badges = page.locator("#result_list .cc-badge").all_inner_texts()
    assert badges and all(text.endswith(("At Risk", "Critical")) for text in badges)
    assert page.locator("#result_list a", has_text="Globex Industries").count() == 1
    page.screenshot(path=ARTIFACTS / "admin_customer_list_at_risk.png", full_page=True)

    # Open customer_at_risk: its red flags, in red, with their evidence.
    page.locator("#result_list a", has_text="Globex Industries").click()
    page.wait_for_selector("#cc-context")
    red_flags = page.locator("#cc-flags li.cc-flag-red")
    assert red_flags.count() >= 3
    assert red_flags.first.is_visible()
    codes = {red_flags.nth(i).get_attribute("data-flag-code") for i in range(red_flags.count())}
    assert {"payment_failed", "urgent_tickets_open", "login_drop"} <= codes
    assert page.locator("#cc-flags", has_text="Payment failed - subscription past due").is_visible()
    badge = page.locator("#cc-health-badge")
    assert badge.inner_text().endswith("Critical")
    assert badge.evaluate("el => getComputedStyle(el).backgroundColor") == RED
    border = red_flags.first.evaluate("el => getComputedStyle(el).borderLeftColor")
    assert border == "rgb(214, 57, 57)"
    assert page.locator("#cc-logins-sparkline").is_visible()
    assert page.locator("#cc-trend-chart circle.cc-trend-dot").count() == 12
    assert _no_horizontal_overflow(page, "#content")
    for card in page.locator("#cc-context .cc-card").all():
        assert card.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), card.get_attribute("id")
    page.screenshot(path=ARTIFACTS / "admin_customer_at_risk.png", full_page=True)

    # "Copy prompt block" puts exactly the prompt text on the clipboard.
    page.click("#cc-copy-btn")
    page.wait_for_selector("#cc-copy-status:has-text('Copied.')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("<customer_context>") and "Globex Industries" in copied
    assert copied == page.input_value("#cc-prompt-text")

    # Refresh now (POST with CSRF) recomputes the context.
    page.click("#cc-refresh-btn")
    page.wait_for_selector(".messagelist li.success")
    assert "Context refreshed" in page.locator(".messagelist").inner_text()
    assert page.locator("#cc-flags li.cc-flag-red").count() >= 3

    # customer_123: Good, two green flags, the sparkline.
    page.goto("/admin/customers/customer/?q=customer_123")
    page.locator("#result_list a", has_text="Acme Corp").click()
    page.wait_for_selector("#cc-context")
    assert page.locator("#cc-health-badge").inner_text().startswith("85")
    assert page.locator("#cc-health-badge").evaluate("el => getComputedStyle(el).backgroundColor") == GREEN
    assert page.locator("#cc-flags li.cc-flag-green").count() == 2
    assert page.locator("#cc-flags li.cc-flag-red").count() == 0
    assert page.locator("#cc-logins-sparkline circle.cc-spark-hit").count() == 30
    page.screenshot(path=ARTIFACTS / "admin_customer_123.png", full_page=True)

    # The dashboard, from the list's object tools.
    page.goto("/admin/customers/customer/")
    page.locator(".object-tools a", has_text="Health dashboard").click()
    page.wait_for_selector("#cc-label-counts")
    counts = page.locator("#cc-label-counts .cc-n").all_inner_texts()
    assert sum(int(n) for n in counts) == 15
    assert page.locator("#cc-red-renewals", has_text="Globex Industries").is_visible()
    assert _no_horizontal_overflow(page, "#content")
    assert _no_horizontal_overflow(page, "#cc-red-renewals")
    assert _no_horizontal_overflow(page, "#cc-drops")
    page.screenshot(path=ARTIFACTS / "admin_dashboard.png", full_page=True)


def _bottom(locator) -> float:
    """The bottom edge of an element, in page pixels (the page is not scrolled)."""
    box = locator.bounding_box()
    assert box is not None, "element not rendered"
    return box["y"] + box["height"]


def _assert_first_screen(page, *, requester: bool = False, ticket: bool = False) -> dict[str, float]:
    """Everything the next reply needs ends above FIRST_SCREEN; returns the bottoms."""
    assert page.evaluate("window.scrollY") == 0
    items = {
        "health badge": page.locator("#cc-health-badge"),
        "top reason": page.locator("#cc-top-reasons li").first,
        "changes since last contact": page.locator("#cc-changes h3", has_text="Changes since last contact"),
        "first change": page.locator("#cc-changes li").first,
    }
    for i, flag in enumerate(page.locator("#cc-flags li.cc-flag-red, #cc-flags li.cc-flag-yellow").all()):
        items[f"flag {flag.get_attribute('data-flag-code')} ({i})"] = flag
    subjects = page.locator("#cc-open .cc-ticket-subject")
    assert subjects.count() >= 2
    for i in range(subjects.count()):
        items[f"open ticket {subjects.nth(i).inner_text()!r}"] = subjects.nth(i)
    if requester:
        items["requester"] = page.locator("#cc-requester")
    if ticket:
        items["ticket being answered"] = page.locator("#cc-ticket-focus")
    bottoms = {name: _bottom(locator) for name, locator in items.items()}
    print({name: round(bottom) for name, bottom in bottoms.items()})  # shown with -s: the report's figures
    late = {name: bottom for name, bottom in bottoms.items() if bottom > FIRST_SCREEN}
    assert not late, f"below the first {FIRST_SCREEN} px: {late}"
    return bottoms


def test_the_first_screen_answers_the_next_reply(page):
    _log_in(page)

    # The list is sorted by urgency: Critical, then red flags, then At Risk, then the rest.
    page.goto("/admin/customers/customer/")
    ranks = []
    for row in page.locator("#result_list tbody tr").all():
        badge = row.locator(".cc-badge").inner_text()
        red = int(row.locator(".cc-dot-red").inner_text())
        ranks.append(0 if badge.endswith("Critical") else 1 if red else 2 if badge.endswith("At Risk") else 3)
    assert ranks == sorted(ranks) and ranks[0] == 0, ranks
    first = page.locator("#result_list tbody tr").first
    assert first.locator(".cc-reason-red").is_visible()  # the top reason beside the badge
    assert _no_horizontal_overflow(page, "#changelist .results")
    page.screenshot(path=ARTIFACTS / "admin_list_by_urgency.png")

    # customer_at_risk, opened from the list.
    page.locator("#result_list a", has_text="Globex Industries").click()
    page.wait_for_selector("#cc-first-screen")
    assert page.locator("#cc-top-reasons", has_text="Payment failed - subscription past due").is_visible()
    assert page.locator("#cc-open li").count() == 2
    _assert_first_screen(page)
    assert _no_horizontal_overflow(page, "#content")
    page.screenshot(path=ARTIFACTS / "admin_first_screen_at_risk.png")

    # Opened from a ticket (the ticket admin's "Customer context" link): the requester and the ticket come first.
    urgent_subject = page.locator("#cc-open li", has=page.locator(".cc-pill-urgent")).first.locator(".cc-ticket-subject").inner_text()
    page.goto("/admin/support/ticket/?q=" + urgent_subject.replace(" ", "+"))
    page.locator("#result_list a.cc-answer-link").first.click()
    page.wait_for_selector("#cc-conversation")
    assert "?ticket=" in page.url
    assert page.locator("#cc-ticket-focus", has_text=urgent_subject).is_visible()
    assert page.locator("#cc-requester").inner_text().count("@globex.com") >= 1
    bottoms = _assert_first_screen(page, requester=True, ticket=True)
    assert max(bottoms.values()) <= FIRST_SCREEN
    assert _no_horizontal_overflow(page, "#content")
    page.screenshot(path=ARTIFACTS / "admin_first_screen_at_risk_ticket.png")
    page.screenshot(path=ARTIFACTS / "admin_customer_at_risk_ticket_full.png", full_page=True)

    # Opened from a contact (the contacts inline's link): that person is the requester.
    page.locator(".inline-related a.cc-requester-link").first.click()
    page.wait_for_selector("#cc-requester")
    assert "?contact=" in page.url
    assert page.locator("#cc-ticket-focus").count() == 0
    _assert_first_screen(page, requester=True)
    page.screenshot(path=ARTIFACTS / "admin_first_screen_at_risk_contact.png")

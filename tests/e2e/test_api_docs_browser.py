"""The API's interactive docs in a real browser: Swagger UI from Préau's own static files, under
the site's strict CSP, with nothing fetched from another host (closed networks)."""

from urllib.parse import urlsplit

from playwright.sync_api import expect


def test_the_api_docs_render_every_operation_from_this_site_alone(desktop_page, live_server):
    page = desktop_page
    own_host = urlsplit(live_server.url).netloc
    elsewhere, problems = [], []
    page.on("request", lambda request: urlsplit(request.url).netloc not in (own_host, "")
            and elsewhere.append(request.url))
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto("/api/v1/docs")
    expect(page.get_by_text("Préau — API des familles").first).to_be_visible()
    for path in ("/api/v1/tokens", "/api/v1/bookings", "/api/v1/children/{child_id}/planning"):
        expect(page.get_by_text(path, exact=True).first).to_be_visible()
    # Swagger UI fetched the OpenAPI document itself and rendered the operations' summaries.
    expect(page.get_by_text("Réserver un jour (un ticket est utilisé)")).to_be_visible()
    assert elsewhere == [], elsewhere
    assert problems == [], problems

"""The home page is the most visited page: its query count is pinned and must not grow with content."""

import datetime

import pytest

from home.models import HomePage, HomePageQuickLink, NewsIndexPage, NewsPage

pytestmark = pytest.mark.django_db

# Site, page route, its ancestors (alias check), two view-restriction lookups, quick links with
# their pages (one join), latest news. base.html's town settings come from the cache.
HOME_PAGE_QUERIES = 7


def add_content(count):
    home = HomePage.objects.get(slug="accueil")
    news_index = NewsIndexPage.objects.get()
    for n in range(count):
        HomePageQuickLink.objects.create(page=home, title=f"Lien {n}", link_page=news_index,
                                         sort_order=100 + n)
        HomePageQuickLink.objects.create(page=home, title=f"Adresse {n}", link_url="/famille/",
                                         sort_order=200 + n)
        news = NewsPage(title=f"Nouvelle {n}", slug=f"nouvelle-{n}",
                        date=datetime.date.today() + datetime.timedelta(days=n + 1))
        news_index.add_child(instance=news)
        news.save_revision().publish()


def test_home_page_query_count_is_pinned(client, demo_site, django_assert_num_queries):
    client.get("/")  # warm the per-process caches (site root paths), as on a live server
    with django_assert_num_queries(HOME_PAGE_QUERIES):
        response = client.get("/")
    assert response.status_code == 200


def test_home_page_query_count_does_not_grow_with_quick_links_and_news(
    client, demo_site, django_assert_num_queries
):
    add_content(8)
    client.get("/")
    with django_assert_num_queries(HOME_PAGE_QUERIES):
        response = client.get("/")
    html = response.content.decode()
    assert "Lien 7" in html and "Adresse 7" in html and "Nouvelle 7" in html

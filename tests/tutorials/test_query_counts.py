import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db

# Site (×2), Wagtail's route walk (6), page restrictions, town settings, the video, then all
# screenshots in one query and their renditions in another, however many steps.
TUTORIAL_PAGE_QUERIES = 13
INDEX_QUERIES = 11


@pytest.mark.parametrize("steps", [1, 5])
def test_tutorial_page_query_count_does_not_depend_on_the_number_of_steps(
        client, make_tutorial, video, django_assert_num_queries, steps):
    page = make_tutorial(f"tutoriel-{steps}-etapes", steps=steps, video=video)
    client.get(page.url)  # creates the renditions once
    cache.clear()  # prove it holds without the rendition cache too

    with django_assert_num_queries(TUTORIAL_PAGE_QUERIES):
        response = client.get(page.url)

    assert response.content.decode().count('class="tutorial-screenshot"') == steps


def test_tutorial_index_query_count_does_not_depend_on_the_number_of_tutorials(
        client, make_tutorial, make_image, django_assert_num_queries):
    client.get("/tutoriels/")
    cache.clear()
    with django_assert_num_queries(INDEX_QUERIES):
        client.get("/tutoriels/")
    for number in range(4):
        make_tutorial(f"en-plus-{number}", thumbnail=make_image(f"vignette-{number}"))
    client.get("/tutoriels/")
    cache.clear()

    with django_assert_num_queries(INDEX_QUERIES):
        response = client.get("/tutoriels/")

    assert response.content.decode().count('class="tutorial-thumbnail"') == 7

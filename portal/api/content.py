"""get_menus, list_documents: what the public site shows, as a logged-in family sees it."""

import datetime

from ninja import Field, Query, Router, Schema
from pydantic import field_validator

from documents.models import listed_documents_for
from menus.models import WeekMenu, menus_of_week
from portal.models import School

from .auth import AUTH
from .common import Id, check_day, family_of, monday, not_found, responses, today

router = Router(tags=["contenus"], auth=AUTH)


class AllergenOut(Schema):
    code: str
    name: str


class CourseOut(Schema):
    course: str = Field(description="starter, main, side, dairy ou dessert")
    label: str
    name: str
    labels: list[str] = Field(description="Bio, Local, Végétarien, Fait maison")
    allergens: list[AllergenOut]


class MenuDayOut(Schema):
    date: datetime.date
    note: str
    courses: list[CourseOut]


class MenuOut(Schema):
    school_id: int | None = Field(description="Vide : le menu vaut pour toutes les écoles")
    note: str
    days: list[MenuDayOut]


class MenusOut(Schema):
    week: datetime.date = Field(description="Le lundi de la semaine")
    school_id: int | None
    menus: list[MenuOut]


class MenusQuery(Schema):
    week: datetime.date | None = Field(None, description="Un jour de la semaine voulue "
                                                         "(par défaut cette semaine)")
    school_id: Id | None = Field(None, description="L’école (par défaut : les menus de toutes les écoles)")

    _week = field_validator("week")(check_day)


@router.get("/menus", operation_id="get_menus", response=responses({200: MenusOut}),
            summary="Les menus d’une semaine, pour une école")
def get_menus(request, query: Query[MenusQuery]):
    family_of(request)
    first = monday(query.week or today())
    school = None
    if query.school_id is not None:
        school = School.objects.filter(pk=query.school_id).first()
        if school is None:
            raise not_found()
    menus = menus_of_week(WeekMenu.objects.for_display([first], school), first, school)
    return {"week": first, "school_id": school.pk if school else None, "menus": [
        {"school_id": m.school_id, "note": m.note, "days": [
            {"date": d.date, "note": d.note, "courses": [
                {"course": name, "label": str(d._meta.get_field(name).verbose_name), "name": dish.name,
                 "labels": [str(label) for label in dish.labels],
                 "allergens": [{"code": a.code, "name": a.name} for a in dish.allergens.all()]}
                for name, dish in ((n, getattr(d, n)) for n in d.COURSE_FIELDS) if dish is not None]}
            for d in m.days.all()]}
        for m in menus]}


class DocumentOut(Schema):
    id: int
    title: str
    kind: str = Field(description="reglement, guide ou autre")
    kind_label: str
    version: str
    publication_date: datetime.date
    description: str
    restricted: bool = Field(description="Réservé aux familles connectées")
    url: str | None = Field(description="Adresse du PDF (pour un document réservé : avec la session du "
                                        "site, pas avec le jeton) ; vide si la famille ne peut pas l’ouvrir")


@router.get("/documents", operation_id="list_documents", response=responses({200: list[DocumentOut]}),
            summary="Les documents utiles (règlement, guides…)")
def list_documents(request):
    family_of(request)
    return [{"id": d.pk, "title": d.title, "kind": d.kind, "kind_label": d.get_kind_display(),
             "version": d.version, "publication_date": d.publication_date, "description": d.description,
             "restricted": d.restricted,
             "url": request.build_absolute_uri(d.url) if d.can_download else None}
            for d in listed_documents_for(request)]




"""A family's own data (RGPD right of access and portability): a readable summary and the
complete JSON file. Only the caller's family: there is no id in these URLs."""

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from portal.services import privacy
from portal.services.access import access_family

from .downloads import as_download


@login_required
@require_GET
def summary(request):
    family = access_family(request.user)
    privacy.record_export(family, by=request.user, kind="html")
    return render(request, "portal/family/personal_data.html", privacy.summary(family))


@login_required
@require_GET
def download(request):
    family = access_family(request.user)
    privacy.record_export(family, by=request.user, kind="json")
    return personal_data_response(family)


def personal_data_response(family):
    """The JSON file, streamed as it is read (the family's download and the agents' alike)."""
    response = StreamingHttpResponse(privacy.export_json(family),
                                     content_type="application/json; charset=utf-8")
    return as_download(response, f"preau-mes-donnees-{timezone.localdate():%Y-%m-%d}.json")

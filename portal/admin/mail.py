"""Agents' view of the e-mail queue (portal/services/mail.py): what is waiting, what failed and
why, and "send again". The text of a message is never shown: it may hold a sign-in link."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet

from portal.models import OutgoingEmail
from portal.services import mail


class OutgoingEmailViewSet(ModelViewSet):
    model = OutgoingEmail
    icon = "mail"
    menu_label = gettext_lazy("E-mails")
    menu_order = 230
    add_to_admin_menu = True
    name = "emails"
    form_fields = ["subject"]
    list_display = ["created_at", "subject", "recipients_display", "status", "attempts", "next_attempt_at",
                    "last_error"]
    list_filter = ["status", "template"]
    search_fields = ["subject"]
    list_export = ["created_at", "template", "subject", "recipients_display", "status", "attempts",
                   "next_attempt_at", "sent_at", "last_error"]
    export_filename = "e-mails"
    copy_view_enabled = False

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(add_url_name=None, delete_url_name=None, **kwargs)

    def get_urlpatterns(self):
        patterns = [p for p in super().get_urlpatterns() if p.name in ("index", "index_results")]
        return patterns + [path("edit/<int:pk>/", self.detail_view, name="edit")]

    def detail_view(self, request, pk):
        if not request.user.has_perm("portal.view_outgoingemail"):
            raise PermissionDenied
        email = get_object_or_404(OutgoingEmail, pk=pk)
        can_send = (email.status != OutgoingEmail.Status.SENT
                    and request.user.has_perm("portal.change_outgoingemail"))
        if request.method == "POST":
            if not can_send:
                raise PermissionDenied
            again = mail.send_again(email)
            if again is None:
                messages.warning(request, _("Cet e-mail est en cours d’envoi : rechargez la page "
                                            "dans un instant pour voir s’il est parti."))
            elif again.status == OutgoingEmail.Status.SENT:
                messages.info(request, _("Cet e-mail est déjà parti."))
            else:
                messages.success(request, _("L’e-mail est remis dans la file d’envoi."))
            return redirect(self.get_url_name("edit"), pk=email.pk)
        return TemplateResponse(request, "portal/admin/email_detail.html", {
            "page_title": email.subject, "header_icon": "mail", "email": email, "can_send": can_send})


@hooks.register("register_admin_viewset")
def register_emails_viewset():
    return OutgoingEmailViewSet()

"""create_token, revoke_token."""

import datetime
import uuid

from ninja import Field, Router, Schema, Status

from portal.services import app_tokens

from .auth import AUTH
from .common import NO_NUL, ApiError, not_found, responses

router = Router(tags=["authentification"])


class TokenIn(Schema):
    email: str = Field(max_length=254, pattern=NO_NUL, examples=["famille.demo@example.org"])
    password: str = Field(max_length=128, pattern=NO_NUL)
    name: str = Field("", max_length=100, pattern=NO_NUL, examples=["Téléphone de Camille"],
                      description="L’appareil, montré sur la page « Mon compte »")


class TokenOut(Schema):
    id: uuid.UUID = Field(description="Pour révoquer le jeton")
    token: str = Field(description="À envoyer dans « Authorization: Bearer … » ; montré une seule fois")
    name: str
    created_at: datetime.datetime


@router.post("/tokens", auth=None, operation_id="create_token", response=responses({201: TokenOut}),
             summary="Obtenir un jeton avec l’e-mail et le mot de passe")
def create_token(request, data: TokenIn):
    """Même blocage que le formulaire de connexion : 5 échecs pour un compte depuis une adresse,
    ou trop d’échecs depuis une adresse, bloquent 15 minutes (429, code `locked`)."""
    try:
        token, raw = app_tokens.create_token(request, data.email, data.password, data.name)
    except app_tokens.TokenRefused as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    return Status(201, {"id": token.public_id, "token": raw, "name": token.name,
                        "created_at": token.created_at})


@router.delete("/tokens/{token_id}", auth=AUTH, operation_id="revoke_token",
               response=responses({204: None}), summary="Révoquer un jeton (le sien, ou celui utilisé)")
def revoke_token(request, token_id: uuid.UUID):
    if not app_tokens.revoke_token(request.auth, token_id):
        raise not_found()
    return Status(204, None)

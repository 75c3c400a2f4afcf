"""What the API tests share: the base path, a family's token as request headers, JSON requests
and the shape of a refusal ({code, message} with a 4xx status)."""

import json
import uuid

from portal.models import AppToken
from portal.services import app_tokens

API = "/api/v1"


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def new_token(user, name="Téléphone", **fields):
    return AppToken.objects.create(user=user, name=name, token_hash=app_tokens.hash_token(
        raw := f"{app_tokens.PREFIX}{uuid.uuid4().hex}"), **fields), raw


def token_headers(user, **fields):
    """A new token of `user`, as the headers of a request."""
    return bearer(new_token(user, **fields)[1])


def post(client, path, data, **extra):
    return client.post(API + path, json.dumps(data), content_type="application/json", **extra)


def delete(client, path, **extra):
    return client.delete(API + path, **extra)


def assert_refused(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert body["message"]
    return body

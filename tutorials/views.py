"""Tutorial videos and captions, served from our own origin (CSP media-src 'self').

Phones' video players (Safari first) ask for byte ranges and refuse to play without 206
answers, so single ranges are honoured.
"""

import posixpath
import re

from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from .models import TutorialVideo, content_type_for

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024
CACHE_CONTROL = "public, max-age=86400"


def _read(handle, length):
    try:
        while length > 0:
            data = handle.read(min(CHUNK, length))
            if not data:
                break
            length -= len(data)
            yield data
    finally:
        handle.close()


def _parse_range(header, size):
    """(start, end) inclusive, None when the header is absent or unusable, "unsatisfiable"."""
    match = RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # "bytes=-500": the last 500 bytes
        start, end = max(size - int(last), 0), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return "unsatisfiable"
    return start, end


def serve_file(request, field):
    name = posixpath.basename(field.name)
    content_type = content_type_for(name)
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8"
    try:
        size = field.size
        handle = field.open("rb")
    except OSError as error:
        raise Http404 from error
    byte_range = _parse_range(request.headers.get("Range", ""), size)
    if byte_range == "unsatisfiable":
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    if byte_range is None:
        response = FileResponse(handle, content_type=content_type)
    else:
        start, end = byte_range
        handle.seek(start)
        response = StreamingHttpResponse(_read(handle, end - start + 1), status=206,
                                         content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    # The file name is in the URL and changes when the file is replaced: safe to cache.
    response["Cache-Control"] = CACHE_CONTROL
    return response


@require_safe
def video(request, pk, filename):
    tutorial_video = get_object_or_404(TutorialVideo, pk=pk)
    if posixpath.basename(tutorial_video.video.name) != filename:
        raise Http404
    return serve_file(request, tutorial_video.video)


@require_safe
def captions(request, pk, filename):
    tutorial_video = get_object_or_404(TutorialVideo, pk=pk)
    if not tutorial_video.captions or posixpath.basename(tutorial_video.captions.name) != filename:
        raise Http404
    return serve_file(request, tutorial_video.captions)

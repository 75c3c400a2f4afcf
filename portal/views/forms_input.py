"""Form input of a request."""


def posted(request):
    """Form data on POST, None on GET: an empty POST must still bind the form and show errors."""
    return request.POST if request.method == "POST" else None


def posted_files(request):
    return request.FILES if request.method == "POST" else None

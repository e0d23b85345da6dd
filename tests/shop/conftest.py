"""Shop tests call services directly as well as through pages.

``request_context`` gives service calls a request context (Babel needs one).
The test client's requests share the test's application context, and so its
``g``, where Flask-Login caches the current user: ``login`` clears that cache so
that a test can switch from one user to another.
"""

import pytest
from flask import g


@pytest.fixture(autouse=True)
def request_context(app, db_session):
    with app.test_request_context():
        yield


@pytest.fixture()
def login(login):
    def _login(user):
        g.pop("_login_user", None)
        return login(user)

    return _login

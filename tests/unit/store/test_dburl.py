"""How store/dburl.py reads DATABASE_URL (the real server's view is in
tests/integration/test_database_urls.py): what reaches asyncpg, and the one sentence for what cannot."""

from __future__ import annotations

import pytest

from store.dburl import DatabaseUrlError, masked, translate


def test_libpq_parameters_go_to_asyncpgs_own_dsn_parser_and_connect_timeout_to_timeout() -> None:
    target = translate("postgres://u:p%40ss@db.example.com:6543/app?sslmode=verify-full&sslrootcert=/ca.pem"
                       "&options=-c%20search_path%3Dhplj&connect_timeout=10&application_name=web")
    assert target.url == "postgresql+asyncpg://u:p%40ss@db.example.com:6543/app"
    assert target.connect_args == {
        "timeout": 10.0,
        "dsn": "postgresql://?sslmode=verify-full&sslrootcert=%2Fca.pem&options=-c%20search_path%3Dhplj"
               "&application_name=web",
    }
    assert not target.is_sqlite


def test_a_plain_url_has_no_connect_arguments_and_sqlite_keeps_its_path() -> None:
    assert translate("postgresql://u@h/db").connect_args == {}
    assert translate("postgresql+asyncpg://u@h/db").url == "postgresql+asyncpg://u@h/db"
    sqlite = translate("sqlite:////var/lib/hplj/hplj.db")
    assert sqlite.is_sqlite and sqlite.url == "sqlite+aiosqlite:////var/lib/hplj/hplj.db"


def test_parameters_that_change_nothing_are_accepted_and_dropped() -> None:
    target = translate("postgresql://u@h/db?channel_binding=prefer&gssencmode=disable&sslsni=1")
    assert target.connect_args == {}


def test_fallback_application_name_names_the_connection_unless_one_is_given() -> None:
    assert translate("postgresql://u@h/db?fallback_application_name=x").connect_args["dsn"].endswith(
        "application_name=x")
    given = translate("postgresql://u@h/db?application_name=y&fallback_application_name=x")
    assert given.connect_args["dsn"].endswith("application_name=y")


@pytest.mark.parametrize(("url", "says"), [
    ("postgresql://u@h/db?sslmode=on", "sslmode='on'"),
    ("postgresql://u@h/db?channel_binding=require", "channel_binding=require"),
    ("postgresql://u@h/db?keepalives=1", "'keepalives'"),
    ("postgresql://u@h/db?connect_timeout=soon", "connect_timeout='soon'"),
    ("postgresql://u@h/db?sslmode=require&sslmode=disable", "'sslmode' more than once"),
    ("postgresql://u@h/db?prepared_statement_cache_size=0", "'prepared_statement_cache_size'"),
    ("mysql://u:secret@h/db", "mysql://"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://"),
    ("hplj.db", "not a database URL"),
])
def test_what_cannot_be_honoured_is_one_sentence_naming_it(url: str, says: str) -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        translate(url)
    message = str(caught.value)
    assert says in message and message.startswith("DATABASE_URL") and message.endswith(".")
    assert "secret" not in message and "\n" not in message


def test_masked_hides_the_password_even_in_a_url_that_cannot_be_parsed() -> None:
    assert masked("postgres://u:hunter2@h:5432/db?sslmode=require") == "postgres://u:***@h:5432/db?sslmode=require"
    assert masked("postgres://u:hunter2@h:port/db") == "postgres://u:***@h:port/db"

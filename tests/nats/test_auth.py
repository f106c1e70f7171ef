"""Credentials on the NATS side (docs/nats.md, "Securing both sides"): nats-server with
`authorization { user, password }`, with `authorization { token }`, and with two
accounts. The right credentials: exact counts both ways; wrong or missing ones: an error at
start naming the server and what it refused. Accounts: the same subjects in account B are
another world; a bridge in account A never sees them."""

import pytest

from natsfix import App, NatsServer, Operator, exchange, failed_start

USER = {"user": "device-17", "password": "s3cret pass"}  # a space: passed intact
TOKEN = {"token": "t0ken-for-the-fleet"}


@pytest.mark.parametrize("credentials", [USER, TOKEN], ids=["user_password", "token"])
def test_right_credentials_exchange_events_and_wrong_ones_fail_at_start(tmp_path, credentials):
    entries = ", ".join(f'{key}: "{value}"' for key, value in credentials.items())
    server = NatsServer(tmp_path, config=[f"authorization {{ {entries} }}"]).start()
    try:
        exchange(tmp_path, [server.url], [server.url], dict(credentials, instance="a-auth"),
                 dict(credentials, instance="b-auth"))

        key = "password" if "password" in credentials else "token"
        wrong = dict(credentials, **{key: credentials[key] + "x"})
        for flags, hint in ((wrong, "the server refused this bridge's credentials"),
                            ({}, "the server requires credentials and this bridge gives none")):
            error = failed_start([server.url], **flags)
            assert f"cannot connect to NATS at {server.url}: Authentication Violation" in error, error
            assert hint + " (bridge_options::user/password, token or credentials_file)" in error, error
            assert credentials[key] not in error  # a secret is never repeated in an error
    finally:
        server.stop()


def test_an_account_never_sees_another_accounts_subjects(tmp_path):
    server = NatsServer(tmp_path, config=[
        "accounts {",
        '  A: { users: [ { user: "a", password: "pa" } ] }',
        '  B: { users: [ { user: "b", password: "pb" } ] }',
        "}",
    ]).start()
    in_a, in_b = {"user": "a", "password": "pa"}, {"user": "b", "password": "pb"}
    pings_a, pings_b = 300, 200  # different: pings crossing over would show in the totals
    apps = {
        "a1": App(tmp_path, "a", [server.url], instance="a1", pings=pings_a, **in_a),
        "b1": App(tmp_path, "b", [server.url], instance="b1", **in_a),
        "a2": App(tmp_path, "a", [server.url], instance="a2", pings=pings_b, **in_b),
        "b2": App(tmp_path, "b", [server.url], instance="b2", **in_b),
    }
    try:
        for app in apps.values():
            app.wait_subscribed()
        apps["a1"].send("go")
        apps["a2"].send("go")
        apps["b1"].wait_for(lambda s: s["received"]["ping_unique"] == pings_a, "account A's pings")
        apps["b2"].wait_for(lambda s: s["received"]["ping_unique"] == pings_b, "account B's pings")
        # One more ping in each account, sent only now: the server had handed each receiver
        # anything of the other account before it, so once the marker is in, nothing else comes.
        apps["a1"].send("ping 1")
        apps["a2"].send("ping 1")
        apps["b1"].wait_for(lambda s: s["received"]["ping_unique"] == pings_a + 1, "account A's marker")
        apps["b2"].wait_for(lambda s: s["received"]["ping_unique"] == pings_b + 1, "account B's marker")
        finals = {name: app.stop() for name, app in apps.items()}
    finally:
        for app in apps.values():
            app.close()
        server.stop()

    assert finals["b1"]["received"]["ping_total"] == pings_a + 1, finals["b1"]["received"]
    assert finals["b2"]["received"]["ping_total"] == pings_b + 1, finals["b2"]["received"]
    assert finals["b1"]["bridge"]["messages_in"] == pings_a + 1, finals["b1"]["bridge"]
    assert finals["b2"]["bridge"]["messages_in"] == pings_b + 1, finals["b2"]["bridge"]
    assert finals["a1"]["bridge"]["messages_in"] == 0 and finals["a2"]["bridge"]["messages_in"] == 0
    assert finals["a1"]["bridge"]["published"] == pings_a + 1 and finals["a2"]["bridge"]["published"] == pings_b + 1


def test_creds_files_of_decentralized_users_exchange_events_and_bad_ones_fail_at_start(tmp_path):
    """credentials_file: user JWTs signed by an account key, the account's JWT signed by the
    operator the server trusts (made here with openssl, as `nsc` would make them)."""
    operator = Operator(tmp_path)
    fleet = operator.account("fleet")
    stranger = operator.account("stranger", known=False)
    device, central = operator.creds("device", fleet), operator.creds("central", fleet)
    server = NatsServer(tmp_path, config=operator.config).start()
    try:
        exchange(tmp_path, [server.url], [server.url], {"credentials_file": device, "instance": "device"},
                 {"credentials_file": central, "instance": "central"})

        for creds in (operator.creds("unknown-account", stranger),  # an account the server does not know
                      operator.creds("wrong-seed", fleet, seed_of=stranger)):  # the seed does not match the JWT
            error = failed_start([server.url], credentials_file=creds)
            assert f"cannot connect to NATS at {server.url}: Authentication Violation" in error, error
            assert "the server refused this bridge's credentials" in error, error
        missing = tmp_path / "missing.creds"
        error = failed_start([server.url], credentials_file=missing)
        assert f"bridge 'nats': credentials_file {missing}: cannot read it: No such file or directory" in error, error
    finally:
        server.stop()

"""Every endpoint of the playground server, with good and bad input."""
from __future__ import annotations

import time

import numpy as np
import pytest

from glassnet.playground.server import MAX_BODY, MAX_SESSIONS


def new(client, **config):
    status, body = client.post("/api/session", {"config": config})
    assert status == 200, body
    return body["id"], body["state"]


def test_binds_loopback_only(server):
    assert server.server_address[0] == "127.0.0.1"
    assert server.url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("path, kind", [("/", b"<!doctype html>"), ("/static/app.js", b"use strict"),
                                         ("/static/style.css", b"body")])
def test_page_and_assets(client, path, kind):
    status, body = client.get(path)
    assert status == 200 and kind in body


def test_page_needs_no_network(client):
    for path in ("/", "/static/app.js", "/static/style.css"):
        _, body = client.get(path)
        assert b"http://" not in body and b"https://" not in body and b"//cdn" not in body


@pytest.mark.parametrize("path", ["/static/../session.py", "/static/secret.txt", "/nothing",
                                  "/api/nothing", "/api/session/abc/state"])
def test_unknown_paths_are_404(client, path):
    status, body = client.get(path)
    assert status == 404 and "error" in body


def test_options(client):
    status, o = client.get("/api/options")
    assert status == 200
    assert {"circle", "xor", "gauss", "spiral", "moons", "plane", "multigauss"} <= set(o["datasets"])
    assert o["features"] == ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
    assert {"step", "sign", "sigmoid", "tanh", "relu", "leaky_relu", "very_leaky_relu", "elu",
            "softplus", "centered_softplus"} <= set(o["activations"])
    assert set(o["optimizers"]) == {"sgd", "momentum", "rmsprop", "adagrad", "adam"}
    assert o["limits"] == {"hidden_layers": 6, "units": 8, "batch_size": 100, "grid": 100,
                           "n_samples": 1000}


def test_new_session_state(client):
    sid, st = new(client, dataset="xor", hidden=[4], grid=20)
    assert st["config"]["dataset"] == "xor" and st["config"]["hidden"] == [4]
    assert st["step"] == 0 and not st["playing"]
    assert [np.shape(w) for w in st["weights"]] == [(4, 2), (1, 4)]
    s = st["surfaces"]
    assert s["size"] == 20 and len(s["output"]) == 400 and len(s["units"]) == 1
    assert len(s["units"][0]) == 4 and len(s["units"][0][0]) == s["thumb"] ** 2
    assert len(st["points"]["train"]) + len(st["points"]["test"]) == 400
    status, st2 = client.get(f"/api/session/{sid}/state?full=0")
    assert status == 200 and "points" not in st2


@pytest.mark.parametrize("config, field", [
    ({"dataset": "swirl"}, "dataset"), ({"hidden": [9]}, "hidden"),
    ({"hidden": [2] * 7}, "hidden"), ({"hidden": [0]}, "hidden"), ({"hidden": "4,2"}, "hidden"),
    ({"hidden": [True]}, "hidden"), ({"lr": -1}, "lr"), ({"lr": "fast"}, "lr"),
    ({"batch_size": 101}, "batch_size"), ({"batch_size": 2.5}, "batch_size"),
    ({"grid": 1000}, "grid"), ({"features": []}, "features"),
    ({"features": ["x3"]}, "features"), ({"activation": "__import__('os')"}, "activation"),
    ({"optimizer": "lbfgs"}, "optimizer"), ({"noise": 80}, "noise"),
    ({"test_ratio": 1.0}, "test_ratio"), ({"early_stopping": "yes"}, "early_stopping"),
    ({"seed": -1}, "seed"), ({"dropout": 0.95}, "dropout"), ({"n_samples": 5000}, "n_samples"),
    ({"evil": 1}, "evil"), ({"regularization": "l3"}, "regularization"),
])
def test_bad_config_is_400_naming_the_field(client, config, field):
    status, body = client.post("/api/session", {"config": config})
    assert status == 400, body
    assert body["field"] == field and body["error"].startswith(field + ":")
    sid, _ = new(client)
    status, body = client.post(f"/api/session/{sid}/config", {"config": config})
    assert status == 400 and body["field"] == field


def test_bad_json_and_big_body(client):
    status, body = client.post("/api/session", b"{not json", raw=True)
    assert status == 400 and body["field"] == "body"
    status, body = client.post("/api/session", b"[1, 2]", raw=True)
    assert status == 400 and body["field"] == "config"
    status, body = client.post("/api/session", b" " * (MAX_BODY + 1), raw=True)
    assert status == 413 and body["field"] == "body"


def test_config_resets_with_new_settings(client):
    sid, _ = new(client, dataset="circle", hidden=[2])
    client.post(f"/api/session/{sid}/step")
    status, st = client.post(f"/api/session/{sid}/config",
                             {"config": {"dataset": "spiral", "hidden": [3, 3],
                                         "features": ["x1", "x2", "sin(x1)"]}})
    assert status == 200 and st["step"] == 0 and st["config"]["dataset"] == "spiral"
    assert [np.shape(w) for w in st["weights"]] == [(3, 3), (3, 3), (1, 3)]


def test_step_reset_and_update(client):
    sid, st0 = new(client, dataset="gauss", hidden=[3], lr=0.1)
    status, st = client.post(f"/api/session/{sid}/step")
    assert status == 200 and st["step"] == 1
    for w0, w1, u in zip(st0["weights"], st["weights"], st["update"]):
        np.testing.assert_allclose(np.array(w1) - np.array(w0), u["dW"], atol=1e-6)
    status, st = client.post(f"/api/session/{sid}/reset")
    assert status == 200 and st["step"] == 0
    np.testing.assert_array_equal(st["weights"][0], st0["weights"][0])   # seeded


def test_play_and_pause(client):
    sid, _ = new(client, dataset="xor", hidden=[4], lr=0.1)
    status, st = client.post(f"/api/session/{sid}/play")
    assert status == 200 and st["playing"]
    deadline = time.time() + 10
    while time.time() < deadline:
        _, st = client.get(f"/api/session/{sid}/state?full=0")
        if st["epoch"] >= 3:
            break
        time.sleep(0.05)
    assert st["epoch"] >= 3 and len(st["history"]["test"]) >= 4
    _, st = client.post(f"/api/session/{sid}/pause")
    assert not st["playing"]
    time.sleep(0.3)
    step = client.get(f"/api/session/{sid}/state?full=0")[1]["step"]
    time.sleep(0.3)
    assert client.get(f"/api/session/{sid}/state?full=0")[1]["step"] == step


def test_early_stopping_pauses(client):
    sid, _ = new(client, dataset="gauss", hidden=[2], early_stopping=True, patience=1, lr=10,
                 optimizer="sgd")
    client.post(f"/api/session/{sid}/play")
    deadline = time.time() + 10
    while time.time() < deadline:
        _, st = client.get(f"/api/session/{sid}/state?full=0")
        if not st["playing"]:
            break
        time.sleep(0.05)
    assert not st["playing"] and "early stopping" in st["message"]


def test_unit_endpoint_good_and_bad(client):
    sid, _ = new(client, dataset="xor", hidden=[4, 3])
    status, u = client.get(f"/api/session/{sid}/unit?layer=2&unit=1")
    assert status == 200
    assert len(u["weights"]) == 4 and len(u["dE_dw"]) == 4 and len(u["delta"]) == 10
    for q in ("layer=0&unit=0", "layer=4&unit=0", "layer=1&unit=4", "layer=3&unit=1",
              "layer=x&unit=0", "unit=0"):
        status, body = client.get(f"/api/session/{sid}/unit?{q}")
        assert status == 400, q
        assert body["field"] in ("layer", "unit")


def test_post_only_and_unknown_actions(client):
    sid, _ = new(client)
    assert client.get(f"/api/session/{sid}/play")[0] == 405
    assert client.post(f"/api/session/{sid}/explode")[0] == 404


def test_sessions_are_bounded(client, server):
    for _ in range(MAX_SESSIONS + 2):
        new(client, grid=10)
    assert len(server.sessions) <= MAX_SESSIONS


def test_import_refuses_junk(client):
    sid, _ = new(client)
    status, body = client.post(f"/api/session/{sid}/import", b"\x00" * 100, raw=True)
    assert status == 400 and body["field"] == "model"


@pytest.mark.parametrize("activation", ["step", "sign", "sigmoid", "tanh", "relu", "leaky_relu",
                                        "very_leaky_relu", "elu", "softplus",
                                        "centered_softplus", "linear"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_every_activation_trains_and_traces(client, activation, optimizer):
    sid, _ = new(client, dataset="moons", hidden=[3, 2], activation=activation,
                 optimizer=optimizer, grid=10, dropout=0.2, regularization="l2", reg_rate=0.01)
    status, st = client.post(f"/api/session/{sid}/step")
    assert status == 200 and np.isfinite(st["test_loss"])
    status, u = client.get(f"/api/session/{sid}/unit?layer=1&unit=0")
    assert status == 200 and max(u["check"].values()) < 1e-8


@pytest.mark.parametrize("optimizer", ["momentum", "rmsprop", "adagrad"])
def test_other_optimizers_and_regression(client, optimizer):
    sid, _ = new(client, dataset="multigauss", hidden=[4], optimizer=optimizer,
                 regularization="l1", reg_rate=0.001, grid=10)
    status, st = client.post(f"/api/session/{sid}/step")
    assert status == 200 and st["problem"] == "regression"


def test_diverged_run_stops_with_a_message_and_json_stays_valid(client):
    # lr 10 on a linear network of the plane: the weights blow up within a few steps
    sid, _ = new(client, dataset="plane", hidden=[8, 8], activation="linear", lr=10,
                 batch_size=100)
    for _ in range(40):
        status, st = client.post(f"/api/session/{sid}/step")
        assert status == 200                      # never a NaN the page cannot parse
        if "no longer finite" in st["message"]:
            break
    assert "no longer finite" in st["message"] and not st["playing"]
    status, st = client.get(f"/api/session/{sid}/state")
    assert status == 200 and (st["test_loss"] is None or not np.isfinite(st["test_loss"]))


def test_error_before_the_body_is_read_closes_the_connection(server):
    import http.client
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("POST", "/api/session/nosuch/config", body=b'{"config": {}}',
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    assert r.status == 404 and r.getheader("Connection") == "close"
    r.read()
    conn.close()

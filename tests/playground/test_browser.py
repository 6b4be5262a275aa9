"""The playground in a real browser (headless Chromium): XOR learnt by one hidden layer of 4
tanh units, a unit's δ and ∂E/∂w as shown equal glassnet's trace, model export and re-load.
Skips with the reason when Chromium or Playwright is absent."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn

from .browser import launch, why_not

pytestmark = pytest.mark.skipif(why_not() is not None, reason=str(why_not()))


@pytest.fixture()
def page(server):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = launch(p)
        pg = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(server.url)
        pg.wait_for_selector("body[data-ready='1']", timeout=15000)
        yield pg
        browser.close()
        assert not errors, errors


def shown(pg, selector):
    return pg.eval_on_selector_all(selector, "els => els.map(e => [Number(e.dataset.value), "
                                             "Number(e.textContent)])")


def test_xor_learns_and_backprop_panel_matches_trace(page, server, tmp_path):
    pg = page
    # XOR, one hidden layer of 4 tanh units (the default has two layers: drop one)
    pg.click("#dataset-xor")
    pg.wait_for_function("document.querySelector('#dataset-xor').classList.contains('selected')")
    pg.click("#remove-layer")
    pg.wait_for_function("document.querySelector('#layer-count').textContent === '1 hidden layer'")
    pg.select_option("#activation", "tanh")
    pg.select_option("#lr", "0.1")
    pg.wait_for_function("cfg.lr === 0.1")
    sid = pg.evaluate("sid")
    s = server.sessions[sid]
    assert s.config["dataset"] == "xor" and s.config["hidden"] == [4]
    assert s.config["activation"] == "tanh"
    assert "hidden=4&" in pg.evaluate("location.hash")        # the setup is in the URL
    pg.click("#play")
    pg.wait_for_function("Number(document.querySelector('#test-loss').dataset.value) < 0.1",
                         timeout=60000)
    pg.click("#play")                                           # pause
    pg.wait_for_function("!last.playing")
    assert float(pg.text_content("#test-loss")) < 0.1
    assert s.losses()[1] < 0.1

    pg.click("#unit-1-2")
    pg.wait_for_selector("#unit-samples")
    X, y = s.current_batch()
    t = gn.inspect.trace(s.model, X, y, nn.MSELoss())
    L = t.layers[0]
    delta = np.array(shown(pg, "#unit-samples .delta"))
    np.testing.assert_allclose(delta[:, 0], L["delta"][: len(delta), 2], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(delta[:, 1], L["delta"][: len(delta), 2], rtol=1e-5, atol=1e-12)
    dEdw = np.array(shown(pg, "#unit-weights .dEdw"))
    np.testing.assert_allclose(dEdw[:, 0], L["grad_W"][2], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dEdw[:, 1], L["grad_W"][2], rtol=1e-5, atol=1e-12)
    dEdb = shown(pg, "#unit-weights .dEdb")[0]
    np.testing.assert_allclose(dEdb[0], L["grad_b"][2], rtol=1e-12, atol=1e-15)

    # export the model file, check it, load it back through the page
    with pg.expect_download() as dl:
        pg.click("#export-model")
    path = tmp_path / "exported.safetensors"
    dl.value.save_as(path)
    m = gn.load(path)
    for a, b in zip(m.state_dict().values(), s.model.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    before = [w.copy() for w in (p.numpy() for p in s.model.state_dict().values())]
    pg.click("#reset")
    pg.wait_for_function("last.step === 0")
    pg.set_input_files("#import-file", str(path))
    pg.wait_for_function("(last.message || '').startsWith('loaded a model')")
    for a, b in zip(s.model.state_dict().values(), before):
        np.testing.assert_array_equal(a.numpy(), b)
    assert float(pg.text_content("#test-loss")) < 0.1


def test_setup_from_the_address_and_a_pasted_one(page, server):
    pg = page
    pg.goto(server.url + "#dataset=moons&hidden=3,5&activation=elu&optimizer=rmsprop&seed=7")
    pg.reload()
    pg.wait_for_selector("body[data-ready='1']")
    s = server.sessions[pg.evaluate("sid")]
    assert s.config["dataset"] == "moons" and s.config["hidden"] == [3, 5]
    assert s.config["activation"] == "elu" and s.config["optimizer"] == "rmsprop"
    assert s.config["seed"] == 7
    pg.evaluate("location.hash = '#dataset=plane&hidden=&features=x1,x2,x1*x2'")
    pg.wait_for_function("cfg.dataset === 'plane'")
    assert s.config["hidden"] == [] and s.config["features"] == ["x1", "x2", "x1*x2"]
    assert "regression" in pg.text_content("#problem")
    pg.evaluate("location.hash = '#hidden=9'")                 # refused, named, nothing changes
    pg.wait_for_function("!document.querySelector('#error').classList.contains('hidden')")
    assert "hidden" in pg.text_content("#error") and s.config["dataset"] == "plane"
    pg.wait_for_function("location.hash.includes('dataset=plane')")   # the address is put back

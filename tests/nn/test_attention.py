"""nn.MultiheadAttention and the Transformer layers against PyTorch, weights copied through
the state dict: outputs and every gradient within 1e-4 in float32."""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.errors import ArgumentError

torch = pytest.importorskip("torch")


def copy_weights(g, t):
    sd = {k: v.detach().numpy().copy() for k, v in t.state_dict().items()}
    assert set(sd) == set(g.state_dict()), (sorted(set(sd) ^ set(g.state_dict())))
    g.load_state_dict(sd)


def check_grads(g, t, g_inputs, t_inputs, atol=1e-4):
    gp = dict(g.named_parameters())
    for name, p in t.named_parameters():
        assert p.grad is not None, name
        np.testing.assert_allclose(gp[name].grad.numpy(), p.grad.numpy(), atol=atol, rtol=1e-3,
                                   err_msg=name)
    for a, b in zip(g_inputs, t_inputs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol, rtol=1e-3)


def pair(*shape, seed=0):
    a = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    return gn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def run_both(g, t, g_args, t_args, g_kw=None, t_kw=None, seed=5):
    out_g = g(*g_args, **(g_kw or {}))
    out_t = t(*t_args, **(t_kw or {}))
    og = out_g[0] if isinstance(out_g, tuple) else out_g
    ot = out_t[0] if isinstance(out_t, tuple) else out_t
    np.testing.assert_allclose(og.detach().numpy(), ot.detach().numpy(), atol=1e-5, rtol=1e-4)
    w = np.random.default_rng(seed).normal(size=og.shape).astype(np.float32)
    loss_g = (og * gn.tensor(w)).sum()
    loss_t = (ot * torch.tensor(w)).sum()
    if isinstance(out_g, tuple) and out_g[1] is not None:
        np.testing.assert_allclose(out_g[1].detach().numpy(), out_t[1].detach().numpy(),
                                   atol=1e-6)
        loss_g = loss_g + (out_g[1] * out_g[1]).sum()
        loss_t = loss_t + (out_t[1] * out_t[1]).sum()
    loss_g.backward()
    loss_t.backward()
    return out_g, out_t


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("average", [True, False])
def test_mha_self_attention_with_key_padding_mask(batch_first, average):
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(16, 4, batch_first=batch_first)
    g = nn.MultiheadAttention(16, 4, batch_first=batch_first)
    copy_weights(g, t)
    shape = (3, 6, 16) if batch_first else (6, 3, 16)
    xg, xt = pair(*shape)
    kpm = np.zeros((3, 6), dtype=bool)
    kpm[1, 4:] = True
    kpm[2, 1] = True
    run_both(g, t, (xg, xg, xg), (xt, xt, xt),
             dict(key_padding_mask=gn.tensor(kpm), average_attn_weights=average),
             dict(key_padding_mask=torch.tensor(kpm), average_attn_weights=average))
    check_grads(g, t, [xg], [xt])


def test_mha_cross_attention_masks_kdim_vdim_bias_kv_zero_attn():
    torch.manual_seed(1)
    t = torch.nn.MultiheadAttention(12, 3, kdim=10, vdim=7, add_bias_kv=True,
                                    add_zero_attn=True, batch_first=True)
    g = nn.MultiheadAttention(12, 3, kdim=10, vdim=7, add_bias_kv=True, add_zero_attn=True,
                              batch_first=True)
    copy_weights(g, t)
    qg, qt = pair(2, 5, 12)
    kg, kt = pair(2, 8, 10, seed=1)
    vg, vt = pair(2, 8, 7, seed=2)
    am = np.random.default_rng(3).normal(size=(5, 8)).astype(np.float32)
    kpm = np.zeros((2, 8), dtype=bool)
    kpm[0, -2:] = True
    run_both(g, t, (qg, kg, vg), (qt, kt, vt),
             dict(attn_mask=gn.tensor(am), key_padding_mask=gn.tensor(kpm)),
             dict(attn_mask=torch.tensor(am), key_padding_mask=torch.tensor(kpm)))
    check_grads(g, t, [qg, kg, vg], [qt, kt, vt])


def test_mha_3d_bool_attn_mask_unbatched_and_no_weights():
    torch.manual_seed(2)
    t = torch.nn.MultiheadAttention(8, 2)
    g = nn.MultiheadAttention(8, 2)
    copy_weights(g, t)
    xg, xt = pair(4, 3, 8)
    m = np.random.default_rng(4).random((3 * 2, 4, 4)) > 0.6
    m[:, :, 0] = False                             # every query sees key 0
    run_both(g, t, (xg, xg, xg), (xt, xt, xt), dict(attn_mask=gn.tensor(m), need_weights=False),
             dict(attn_mask=torch.tensor(m), need_weights=False))
    check_grads(g, t, [xg], [xt])
    ug, ut = pair(4, 8, seed=9)                    # unbatched (L, E)
    og, wg = g(ug, ug, ug)
    ot, wt = t(ut, ut, ut)
    np.testing.assert_allclose(og.detach().numpy(), ot.detach().numpy(), atol=1e-5)
    assert tuple(wg.shape) == tuple(wt.shape) == (4, 4)


def test_mha_fully_masked_query_like_torch():
    torch.manual_seed(3)
    t = torch.nn.MultiheadAttention(4, 2, batch_first=True)
    g = nn.MultiheadAttention(4, 2, batch_first=True)
    copy_weights(g, t)
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32)
    kpm = np.zeros((2, 3), dtype=bool)
    kpm[1] = True
    og, wg = g(gn.tensor(x), gn.tensor(x), gn.tensor(x), key_padding_mask=gn.tensor(kpm))
    assert np.isnan(og.numpy()[1]).all() and np.isnan(wg.numpy()[1]).all()
    og, _ = g(gn.tensor(x), gn.tensor(x), gn.tensor(x), key_padding_mask=gn.tensor(kpm),
              need_weights=False)
    ot, _ = t(torch.tensor(x), torch.tensor(x), torch.tensor(x), key_padding_mask=torch.tensor(kpm),
              need_weights=False)
    np.testing.assert_allclose(og.numpy(), ot.detach().numpy(), atol=1e-6)


def test_mha_errors_name_the_argument():
    with pytest.raises(ArgumentError, match="divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    m = nn.MultiheadAttention(8, 2, batch_first=True)
    x = gn.randn(2, 3, 8)
    with pytest.raises(ArgumentError, match="embed_dim=8"):
        m(gn.randn(2, 3, 6), x, x)
    with pytest.raises(ArgumentError, match="key_padding_mask must have shape"):
        m(x, x, x, key_padding_mask=gn.tensor(np.zeros((2, 4), dtype=bool)))
    with pytest.raises(ArgumentError, match="is_causal"):
        m(x, x, x, is_causal=True)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_parity(norm_first, activation):
    torch.manual_seed(4)
    kw = dict(dim_feedforward=32, dropout=0.0, activation=activation, norm_first=norm_first,
              batch_first=True)
    t = torch.nn.TransformerEncoderLayer(16, 4, **kw)
    g = nn.TransformerEncoderLayer(16, 4, **kw)
    copy_weights(g, t)
    xg, xt = pair(3, 7, 16)
    kpm = np.zeros((3, 7), dtype=bool)
    kpm[0, 5:] = True
    mask = nn.Transformer.generate_square_subsequent_mask(7)
    run_both(g, t, (xg,), (xt,), dict(src_mask=mask, src_key_padding_mask=gn.tensor(kpm)),
             dict(src_mask=torch.tensor(mask.numpy()), src_key_padding_mask=torch.tensor(kpm)))
    check_grads(g, t, [xg], [xt])


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_decoder_layer_parity(norm_first, activation):
    torch.manual_seed(5)
    kw = dict(dim_feedforward=24, dropout=0.0, activation=activation, norm_first=norm_first)
    t = torch.nn.TransformerDecoderLayer(12, 3, **kw)
    g = nn.TransformerDecoderLayer(12, 3, **kw)
    copy_weights(g, t)
    tg, tt = pair(5, 2, 12)
    mg, mt = pair(7, 2, 12, seed=1)
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    mkpm = np.zeros((2, 7), dtype=bool)
    mkpm[1, 6:] = True
    run_both(g, t, (tg, mg), (tt, mt),
             dict(tgt_mask=mask, memory_key_padding_mask=gn.tensor(mkpm)),
             dict(tgt_mask=torch.tensor(mask.numpy()), memory_key_padding_mask=torch.tensor(mkpm)))
    check_grads(g, t, [tg, mg], [tt, mt])


def test_full_transformer_parity_and_state_dict_names():
    torch.manual_seed(6)
    kw = dict(d_model=16, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
              dim_feedforward=32, dropout=0.0, batch_first=True)
    t = torch.nn.Transformer(**kw)
    g = nn.Transformer(**kw)
    copy_weights(g, t)
    sg, st = pair(2, 6, 16)
    tg, tt = pair(2, 4, 16, seed=1)
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    run_both(g, t, (sg, tg), (st, tt), dict(tgt_mask=mask), dict(tgt_mask=torch.tensor(mask.numpy())))
    check_grads(g, t, [sg, tg], [st, tt])


def test_encoder_stack_layers_start_equal_like_torch():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    enc = nn.TransformerEncoder(layer, 3)
    w = [l.linear1.weight.numpy() for l in enc.layers]
    assert all(np.array_equal(w[0], x) for x in w[1:])
    assert w[0] is not w[1]


def test_dropout_in_training_and_none_in_eval():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.5, batch_first=True)
    x = gn.randn(2, 5, 8)
    layer.train()
    a, b = layer(x).numpy(), layer(x).numpy()
    assert not np.allclose(a, b)
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())


def test_positional_encoding_formula_and_learned():
    pe = nn.PositionalEncoding(6, dropout=0.0, max_len=10)
    t, i = 3, 1
    val = pe.pe.numpy()
    assert np.isclose(val[t, 2 * i], np.sin(t / 10000 ** (2 * i / 6)))
    assert np.isclose(val[t, 2 * i + 1], np.cos(t / 10000 ** (2 * i / 6)))
    assert "pe" not in dict(pe.named_parameters())
    x = gn.zeros(4, 2, 6)                          # (T, N, d) by default
    np.testing.assert_allclose(pe(x).numpy()[:, 0], val[:4], rtol=1e-6)
    with pytest.raises(ArgumentError, match="max_len=10"):
        pe(gn.zeros(11, 1, 6))
    lp = nn.LearnedPositionalEncoding(6, max_len=10)
    y = lp(gn.zeros(2, 4, 6, requires_grad=True))
    y.sum().backward()
    np.testing.assert_array_equal(lp.weight.grad.numpy()[:4], 2.0)
    np.testing.assert_array_equal(lp.weight.grad.numpy()[4:], 0.0)

"""Backprop by hand and by glassnet: Matt Mazur's "A Step by Step Backpropagation Example"
(2015, https://mattmazur.com/2015/03/17/a-step-by-step-backpropagation-example/).

A 2-2-2 sigmoid network, E = sum 1/2 (t - o)^2, one SGD step with learning rate 0.5.
Prints every partial derivative in backprop order, the delta form checked against
autograd, a gradient check of the whole model, and the computation graph as DOT.

    python examples/inspect_backprop.py
"""
import numpy as np

import glassnet as gn
import glassnet.inspect as ins
from glassnet import nn

model = nn.Sequential(nn.Linear(2, 2, dtype="float64"), nn.Sigmoid(),
                      nn.Linear(2, 2, dtype="float64"), nn.Sigmoid())
model[0].weight.numpy()[...] = [[0.15, 0.20], [0.25, 0.30]]   # w1 w2 / w3 w4
model[0].bias.numpy()[...] = 0.35                             # b1
model[2].weight.numpy()[...] = [[0.40, 0.45], [0.50, 0.55]]   # w5 w6 / w7 w8
model[2].bias.numpy()[...] = 0.60                             # b2
x, t = np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]])
loss = nn.MSELoss(reduction="sum", half=True)

trace = ins.trace(model, x, t, loss, lr=0.5)
print(trace)
print("\ndelta form vs autograd, worst absolute difference:", trace.check())
print("\n" + str(ins.gradcheck_model(model, loss, x, t)))
print("\n" + ins.graph(loss(model(gn.tensor(x, dtype="float64")), t), params=model))

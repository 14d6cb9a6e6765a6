// Package optim holds the optimizers that update a network's parameters from
// their gradients, and the learning-rate schedules that steer them.
//
// # Optimizers
//
// [SGD], [RMSprop], [Adam], [AdamW], [Adagrad], [Adadelta], [Adamax], [Nadam]
// and [Lion] implement [Optimizer], each with Keras's update rule. Each is a
// struct whose zero fields mean Keras's defaults, so &optim.RMSprop{} is
// Keras's RMSprop as the published tutorials used it. The updates of SGD,
// RMSprop and Adam (and AdamW) run in AVX-512 where the CPU has it; the
// others are Go loops. [New] builds one from a name and
// a map of Keras argument names, as read from a model file or a command line:
//
//	opt, err := optim.New("rmsprop", map[string]any{"learning_rate": 0.001, "rho": 0.9})
//
// Step updates every parameter that is trainable and has a gradient, then
// counts one iteration. The state an optimizer keeps per parameter (Keras's
// "slots": momentum, moving averages) is allocated at the first Step; later
// steps allocate nothing. [Optimizer.State] and [Optimizer.SetState] export
// and restore that state and the iteration count, which is what resuming a
// training run needs to continue exactly where it stopped.
//
// Weight decay, where set, is decoupled as in Keras 3 and AdamW:
// w -= w*weight_decay*lr before the gradient update, for every optimizer.
//
// Every optimizer also takes the arguments of Keras's base optimizer, its
// [Options], whose fields read as its own. It clips the gradients before its
// update when its [Clipping] says so, as Keras's clipnorm, clipvalue and
// global_clipnorm arguments do (and PyTorch's torch.nn.utils.clip_grad_norm_
// and clip_grad_value_ before opt.step()); it keeps an exponential moving
// average of the weights it updates, Keras's use_ema ([EMA]), which
// [Finalize] puts in place of the weights, as model.Fit does after its last
// epoch; it updates the weights once every n steps, with the mean of their
// gradients, Keras 3's gradient_accumulation_steps ([Accumulation]: four
// batches of 32 make one update on the gradient of 128 images); and it
// keeps weights out of the weight decay by name, Keras's
// exclude_from_weight_decay ([DecayExclusion]):
//
//	opt := &optim.AdamW{}
//	opt.GlobalClipNorm = 1
//	opt.UseEMA = true // momentum 0.99
//	opt.GradientAccumulationSteps = 4
//	opt.ExcludeFromWeightDecay = []string{"bias", "gamma", "beta"}
//
// # Differences from Keras 3 and PyTorch
//
// The update rules are Keras's; the table lists every place where the
// defaults or the arithmetic of the three differ.
//
//	                    convnet                  Keras 3                  PyTorch
//	RMSprop lr          0.001                    0.001                    0.01
//	RMSprop rho/alpha   0.9                      0.9                      0.99
//	RMSprop epsilon     1e-8                     1e-7                     1e-8
//	RMSprop denominator sqrt(a) + eps (Keras 2)  sqrt(a + eps)            sqrt(a) + eps
//	                    sqrt(a + eps) with
//	                    EpsilonInsideSqrt
//	RMSprop centered    sqrt(a - mg²) + eps      sqrt(a - mg² + eps)      sqrt(a - mg²) + eps
//	RMSprop momentum    m = mu*m + lr*g/den      same                     m = mu*m + g/den;
//	                                                                      w -= lr*m
//	Adam epsilon        1e-7, outside the        1e-7, same               1e-8, added to
//	                    bias correction                                   sqrt(v̂) (bias-corrected)
//	AdamW weight decay  0.004                    0.004                    0.01
//	weight decay        decoupled, w*wd*lr       decoupled, w*wd*lr       SGD/Adam/RMSprop: L2 added
//	                                                                      to the gradient
//	SGD lr              0.01                     0.01                     0.001 (recent versions)
//	SGD momentum        m = mu*m - lr*g; w += m  same                     b = mu*b + g; w -= lr*b
//	Adagrad             acc from 0.1,            same                     acc from 0,
//	                    lr*g/sqrt(acc + 1e-7)                             lr*g/(sqrt(acc) + 1e-10)
//	Adadelta defaults   lr 0.001, rho 0.95,      same                     lr 1, rho 0.9, eps 1e-6
//	                    eps 1e-7
//	Adamax epsilon      1e-7, added to u         same                     1e-8, to |g| in the max
//	Nadam schedule      u = b1*(1-0.5*0.96^t)    same                     0.96^(0.004*t)
//	global clip norm    g*c/max(‖G‖, c)          same                     g*min(c/(‖G‖+1e-6), 1)
//
// The RMSprop default keeps epsilon outside the square root because that is
// the rule of Keras 2 (and of PyTorch), under which the tutorial this project
// reproduces was trained; set EpsilonInsideSqrt (and Epsilon 1e-7) for Keras 3.
// The two differ only while the moving average a is comparable to epsilon,
// that is for parameters whose gradients are tiny or still zero.
//
// Keras's Adam step, lr*sqrt(1-β2ᵗ)/(1-β1ᵗ) * m/(sqrt(v)+ε), is the paper's
// bias-corrected step lr*m̂/(sqrt(v̂)+ε') with ε' = ε/sqrt(1-β2ᵗ): in the first
// steps (t=1: ε' ≈ 31.6ε) Keras damps parameters with small second moments
// more than PyTorch, whose ε is added to sqrt(v̂) directly.
//
// References: Tieleman and Hinton, "Lecture 6.5 - RMSProp", COURSERA: Neural
// Networks for Machine Learning, 2012; Kingma and Ba, "Adam: A Method for
// Stochastic Optimization", arXiv:1412.6980; Loshchilov and Hutter,
// "Decoupled Weight Decay Regularization", arXiv:1711.05101.
//
// # Learning-rate schedules
//
// A [Schedule] maps a step and an epoch to a learning rate: [Constant],
// [StepDecay] and [Cosine]. A training loop applies one with
// opt.SetLR(s.LR(step, epoch)) before each step.
//
// [ReduceLROnPlateau] reacts to a validation metric instead, once per epoch,
// with Keras's exact rules: an absolute MinDelta, "auto" mode choosing max for
// metrics whose name contains "acc", new rate max(lr*Factor, MinLR), and a
// cooldown. Unlike PyTorch's scheduler of the same name, whose threshold is
// relative by default, the threshold is absolute:
//
//	plateau := optim.NewReduceLROnPlateau("val_loss")
//	plateau.Patience = 3
//	...
//	lr, reduced := plateau.Update(valLoss, opt.LR())
//	opt.SetLR(lr)
package optim

"""The relaxed Bernoulli draws of the transforms whose op value is a probability.

One home for how these transforms call
:func:`~braindecode_augnet.functional.hard_relaxed_bernoulli` with what an
augmentation layer computed for them: the logit of the op value, or (for
the transforms that declare ``takes_logit_over_temperature``) that logit
divided by the relaxation temperature, handed in ``params`` under
:data:`LOGIT_OVER_TEMPERATURE`.
"""

from .. import functional as F

#: the key of ``params`` under which an augmentation layer hands a candidate
#: ``logit(op_value, eps=1e-6) / relaxation_temperature`` (see
#: :func:`~braindecode_augnet.functional.layers_policy`'s ``logit_scales``)
LOGIT_OVER_TEMPERATURE = "op_logit_over_temperature"


def relaxed_draw(transform, X, params, uniform, n_trailing, output="draw"):
    """``hard_relaxed_bernoulli`` with ``transform``'s op value (see
    :meth:`~.DifferentiableTransform._op`) as the probability, and the logit
    that the caller computed, if any, in the form it was computed."""
    probability = transform._op(X, params, n_trailing)
    temperature = transform.relaxation_temperature
    scaled = params.get(LOGIT_OVER_TEMPERATURE)
    if scaled is not None and "magnitude" not in params and scaled.dtype == X.dtype:
        return F.hard_relaxed_bernoulli(
            probability,
            uniform,
            temperature,
            output=output,
            logit_over_temperature=scaled,
        )
    logit = transform._op_logit(X, params)
    return F.hard_relaxed_bernoulli(probability, uniform, temperature, logit, output)

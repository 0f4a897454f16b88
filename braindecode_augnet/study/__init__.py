"""The sleep-staging study built on the library.

What ``python -m braindecode_augnet`` and the gallery run on top of the
library: the sleep pipeline (:mod:`.pipeline`), its report (:mod:`.report`)
and plots (:mod:`.plots`), the command line (:mod:`.cli`), the sequence sleep
stager (:mod:`.stager`) and the toy trunks of the sinusoid problem
(:mod:`.toy_models`). It depends on the library; the library never imports
it.
"""

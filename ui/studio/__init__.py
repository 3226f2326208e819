"""The Gradio studio (``podium ui``).

Without gradio (unit-tested directly): :mod:`ui.studio.handlers` (what every button
does, on one :class:`~ui.studio.handlers.Studio`, composed of :mod:`ui.studio.runner`
(jobs: log, inputs, progress, Cancel, Retry) and one thin adapter over the front door per
tab: :mod:`ui.studio.avatar_actions`, :mod:`ui.studio.render_actions`,
:mod:`ui.studio.dub_actions`, :mod:`ui.studio.batch_actions`, with the controls' values
read by :mod:`ui.studio.choices`), :mod:`ui.studio.jobs` (the
persistent job log), :mod:`ui.studio.progress` (ETA and cancellation),
:mod:`ui.studio.quality` (the pre-flight report of an upload), :mod:`ui.studio.uploads`
(server-side checks of uploaded files) and :mod:`ui.studio.timeline` (the
words/phonemes/mouth figure and its data beside each video).

With gradio: :mod:`ui.studio.layout` (the page), one ``tab_*`` module per tab,
:mod:`ui.studio.wiring` (queues, sessions, progress adapter),
:mod:`ui.studio.gradio_errors` (the one place library errors become ``gr.Error``) and
:mod:`ui.studio.server` (launch: local only, login, upload limit, one job at a time).
"""

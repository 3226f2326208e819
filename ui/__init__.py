"""User interfaces: the command line (and, later, the Gradio studio). Nothing imports ui."""

from learning.services.figures import title_figures_recompute  # noqa: F401

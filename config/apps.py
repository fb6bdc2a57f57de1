from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project itself as an app, for what concerns the whole site rather than one of the
    apps: the `serve`, `compile_translations` and `ensure_organiser` commands
    (config/management/commands/)."""

    name = "config"
    label = "config"

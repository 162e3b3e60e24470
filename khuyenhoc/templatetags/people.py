from django import template

register = template.Library()


@register.filter
def person_name(user) -> str:
    """Vietnamese order, family name first: Trần Thị Lan (Django's get_full_name puts it last)."""
    if user is None:
        return ""
    name = f"{user.last_name} {user.first_name}".strip()
    return name or user.get_username()

from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "The user name or password is not right. Check them again: capital and small letters count."
        ),
        "inactive": _("This account has been switched off. Ask your association's manager."),
    }

import re

import pytest
from django.core import mail

pytestmark = pytest.mark.django_db


def test_a_forgotten_password_is_reset_through_a_link_sent_by_e_mail(client, cast):
    response = client.post("/accounts/password_reset/", {"email": "clerk_phucxa@example.vn"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Đặt lại mật khẩu trên Cổng thông tin Khuyến học"
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Mat-khau-moi-2026!", "new_password2": "Mat-khau-moi-2026!"},
    )
    assert response.status_code == 302
    assert client.login(username="clerk_phucxa", password="Mat-khau-moi-2026!")


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, cast):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.vn"})
    assert response.status_code == 302
    assert mail.outbox == []

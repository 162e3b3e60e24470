from django import forms

from khuyenhoc.widgets import FastSelect


class ChoiceForm(forms.Form):
    place = forms.ChoiceField(
        choices=[("", "---------"), ("1", "Phường Phúc Xá"), ("2", "<b>Trúc Bạch</b>")],
        widget=FastSelect,
        required=False,
    )


def test_it_renders_the_same_select_as_django_with_the_choice_selected_and_labels_escaped():
    html = str(ChoiceForm({"place": "1"})["place"])
    assert html.startswith("<select ")
    assert ' name="place"' in html and ' id="id_place"' in html
    assert '<option value="1" selected>Phường Phúc Xá</option>' in html
    assert "&lt;b&gt;Trúc Bạch&lt;/b&gt;" in html
    assert '<option value="">---------</option>' in html


def test_an_unbound_form_selects_the_empty_choice_as_django_does():
    html = str(ChoiceForm()["place"])
    assert html.count(" selected") == 1
    assert '<option value="" selected>---------</option>' in html

"""The adapter registry: each app registers its adapters; the import pages read only the registry."""

import pytest
from django.urls import reverse

from khuyenhoc.imports import ImportAdapter, adapter_class, register, registered


def test_every_app_registers_its_adapters_in_the_order_of_the_apps():
    assert list(registered()) == [
        "members",
        "organizations",
        "donations",
        "awards",
        "households",
        "clans",
        "communities",
        "citizens",
        "centre_activities",
    ]
    for kind, adapter in registered().items():
        assert adapter.kind == kind
        assert adapter_class(kind) is adapter


def test_each_adapter_names_its_template_file_and_its_list_page():
    files = {kind: adapter.template_filename for kind, adapter in registered().items()}
    assert files == {
        "members": "mau-nhap-hoi-vien.xlsx",
        "organizations": "mau-nhap-to-chuc.xlsx",
        "donations": "mau-nhap-ung-ho.xlsx",
        "awards": "mau-nhap-hoc-bong.xlsx",
        "households": "mau-nhap-ho-gia-dinh.xlsx",
        "clans": "mau-nhap-dong-ho.xlsx",
        "communities": "mau-nhap-cong-dong.xlsx",
        "citizens": "mau-nhap-cong-dan-hoc-tap.xlsx",
        "centre_activities": "mau-nhap-hoat-dong-tthtcd.xlsx",
    }
    for adapter in registered().values():
        assert reverse(adapter.list_url)  # a URL name that resolves


def test_an_unknown_kind_is_not_found():
    with pytest.raises(KeyError):
        adapter_class("lottery")


def test_a_second_adapter_for_a_kind_or_one_without_a_kind_is_refused():
    class Impostor(ImportAdapter):
        kind = "members"

    class Nameless(ImportAdapter):
        pass

    with pytest.raises(ValueError, match="Two import adapters"):
        register(Impostor)
    with pytest.raises(ValueError, match="no kind"):
        register(Nameless)
    register(adapter_class("members"))  # registering the same class again changes nothing
    assert adapter_class("members").__name__ == "MemberImport"

from django.urls import include, path

from associations.views import branches, members, organizations, staff

app_name = "associations"

urlpatterns = [
    path("branches/", branches.branch_root, name="branch_root"),
    path("branches/<int:pk>/", branches.branch_detail, name="branch_detail"),
    path("branches/<int:pk>/edit/", branches.branch_update, name="branch_update"),
    path("branches/<int:parent_pk>/add/", branches.branch_create, name="branch_create"),
    path("organizations/", organizations.organization_list, name="organization_list"),
    path("organizations/add/", organizations.organization_create, name="organization_create"),
    path("organizations/<int:pk>/", organizations.organization_detail, name="organization_detail"),
    path("organizations/<int:pk>/edit/", organizations.organization_update, name="organization_update"),
    path("organizations/<int:pk>/headcount/", organizations.organization_headcount, name="organization_headcount"),
    path("members/", members.member_list, name="member_list"),
    path("members/add/", members.member_create, name="member_create"),
    path("members/<int:pk>/", members.member_detail, name="member_detail"),
    path("members/<int:pk>/edit/", members.member_update, name="member_update"),
    path("members/<int:pk>/end/", members.member_end, name="member_end"),
    path("staff/", staff.staff_list, name="staff_list"),
    path("staff/add/", staff.staff_create, name="staff_create"),
    path("staff/<int:pk>/", staff.staff_update, name="staff_update"),
    path("", include("associations.urls_imports")),
]

from django.urls import path

from associations.views import audit, branches, exports, members, organizations, personal_data, search, staff

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
    path("members/end-selected/", members.members_end, name="members_end"),
    path("members/<int:pk>/", members.member_detail, name="member_detail"),
    path("members/<int:pk>/edit/", members.member_update, name="member_update"),
    path("members/<int:pk>/end/", members.member_end, name="member_end"),
    path("members/<int:pk>/personal-data/", personal_data.member_personal_data, name="member_personal_data"),
    path(
        "members/<int:pk>/personal-data/export.json",
        personal_data.member_personal_data_export,
        name="member_personal_data_export",
    ),
    path(
        "members/<int:pk>/personal-data/erase/",
        personal_data.member_personal_data_erase,
        name="member_personal_data_erase",
    ),
    path("audit/", audit.audit_log, name="audit_log"),
    path("audit/exports/", audit.personal_data_exports, name="personal_data_exports"),
    path("staff/", staff.staff_list, name="staff_list"),
    path("staff/add/", staff.staff_create, name="staff_create"),
    path("staff/<int:pk>/", staff.staff_update, name="staff_update"),
    path("members/export.xlsx", exports.member_export, name="member_export"),
    path("search/branches/", search.branch_search, name="branch_search"),
    path("search/organizations/", search.organization_search, name="organization_search"),
    path("search/members/", search.member_search, name="member_search"),
    path("exports/", exports.export_job_list, name="export_job_list"),
    path("exports/<int:pk>/", exports.export_job, name="export_job"),
    path("exports/<int:pk>/download/", exports.export_job_download, name="export_job_download"),
    path("organizations/export.xlsx", exports.organization_export, name="organization_export"),
]

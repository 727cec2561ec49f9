from django.urls import path

from . import views

app_name = "notify"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read-all/", views.inbox_read_all, name="read_all"),
    path("<id:notification_id>/open/", views.inbox_open, name="open"),
    path("<id:notification_id>/read/", views.inbox_read, name="read"),
    path("channels/", views.channels, name="channels"),
    path("channels/<id:channel_id>/", views.channel_detail, name="channel"),
    path(
        "channels/<id:channel_id>/deactivate/",
        views.channel_deactivate,
        name="channel_deactivate",
    ),
    path("channels/<id:channel_id>/test/", views.channel_test, name="channel_test"),
    path(
        "channels/<id:channel_id>/subscriptions/",
        views.subscription_add,
        name="subscription_add",
    ),
    path(
        "subscriptions/<id:subscription_id>/delete/",
        views.subscription_delete,
        name="subscription_delete",
    ),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/<id:delivery_id>/retry/", views.delivery_retry, name="delivery_retry"),
]

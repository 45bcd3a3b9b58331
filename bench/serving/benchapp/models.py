from django.db import models


class Item(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    updated = models.DateTimeField(auto_now=True)

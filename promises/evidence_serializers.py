"""The shape of feasibility evidence in answers: the category record shows it live, a gate review
shows the copy stored when the gate opened (promises/evidence.py computes it)."""

from __future__ import annotations

from rest_framework import serializers


class EvidenceMetricSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    unit = serializers.CharField()
    direction = serializers.ChoiceField(choices=["lower", "higher"])


def _figure(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=3, allow_null=True, help_text=help_text)


class EvidenceSerializer(serializers.Serializer):
    metric = EvidenceMetricSerializer()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    window_days = serializers.IntegerField()
    count = serializers.IntegerField(help_text="Verified promises of the category and metric in the window.")
    minimum = serializers.IntegerField(help_text="How many it takes for figures to be shown.")
    sufficient = serializers.BooleanField(help_text="False: too few promises; no figures are pretended.")
    median = _figure("Half of the promises achieved this value or better.")
    p80 = _figure("80 % of the promises achieved this value or better.")
    p95 = _figure("95 % of the promises achieved this value or better.")
    worst = _figure("The worst value delivered, by the metric's direction.")
    target = serializers.DecimalField(max_digits=20, decimal_places=3, allow_null=True,
                                      help_text="The proposed target the share is computed for.")
    met = serializers.IntegerField(allow_null=True, help_text="Promises whose actual value met the target.")
    met_share = serializers.DecimalField(max_digits=4, decimal_places=3, allow_null=True,
                                         help_text="met / count, 0 to 1.")

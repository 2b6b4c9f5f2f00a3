"""REST API of the KVP loop (registered in api/urls.py): feedback, improvement items with their PDCA
transitions as actions, and a category's guidance and record. Thin: the serializers parse the input,
then one service or selector; the services decide who may do what."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from api.mixins import ID_PATTERN, ApiMixin, validated
from api.parsers import MultiPartParser
from promises.evidence import metric_evidence

from . import serializers as s
from .selectors.guidance import category_record, guidance_list
from .selectors.improvements import improvement_detail, improvement_is_visible, improvement_list
from .selectors.intake import feedback_is_visible, feedback_list
from .selectors.targets import improvement_baseline
from .services import improvements
from .services.guidance import guidance_retire, guidance_supersede
from .services.importing import feedback_import_csv
from .services.intake import feedback_record


@extend_schema_view(list=extend_schema(summary="After-sales feedback, newest first"),
                    retrieve=extend_schema(summary="One feedback"))
class FeedbackViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = s.FeedbackSerializer
    lookup_value_regex = ID_PATTERN
    filterset_fields = ["category", "kind", "channel", "severity", "source", "promise"]
    search_fields = ["text", "reason", "external_reference"]
    ordering_fields = ["received_at", "severity", "kind"]
    ordering = ["-received_at", "-id"]

    def get_queryset(self):
        return feedback_list(user=self.request.user)

    def is_visible(self, pk: int) -> bool:
        return feedback_is_visible(user=self.request.user, feedback_id=pk)

    def not_found(self, pk) -> NotFound:
        return NotFound(_("Feedback %(id)s does not exist.") % {"id": pk})

    def list(self, request):
        return self._page(self.get_queryset(), s.FeedbackSerializer)

    def retrieve(self, request, pk=None):
        item = self.get_queryset().filter(pk=int(pk)).first()
        if item is None:
            raise self.not_found(pk)
        return Response(s.FeedbackSerializer(item).data)

    @extend_schema(request=s.FeedbackWriteSerializer, responses={201: s.FeedbackSerializer},
                   summary="Record feedback from any channel")
    def create(self, request):
        data = validated(s.FeedbackWriteSerializer, request.data)
        item = feedback_record(user=request.user, **data)
        return Response(s.FeedbackSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": s.FeedbackImportSerializer},
                   responses={201: {"type": "object", "properties": {"imported": {"type": "integer"}}}},
                   summary="Import feedback from a CSV export: all rows or none")
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser],
            filterset_fields=[], search_fields=[], ordering_fields=[])
    def import_csv(self, request):
        data = validated(s.FeedbackImportSerializer, request.data)
        result = feedback_import_csv(user=request.user, content=data["file"].read(),
                                     dry_run=data["dry_run"])
        return Response({"imported": result.imported, "dry_run": data["dry_run"]},
                        status=status.HTTP_200_OK if data["dry_run"] else status.HTTP_201_CREATED)


def _item_action(service, serializer_class, summary: str, *, build=None):
    """A transition action: POST /api/improvements/{id}/<name>/."""

    def view(self, request, pk=None):
        data = validated(serializer_class, request.data)
        service(item_id=int(pk), user=request.user, **(build(data) if build else data))
        return self._detail(int(pk))

    view.__name__ = service.__name__.removeprefix("improvement_")
    # extend_schema outside action: action() replaces the function's kwargs, where the schema is kept.
    return extend_schema(request=serializer_class, responses=s.ImprovementDetailSerializer,
                         summary=summary)(action(detail=True, methods=["post"])(view))


def _standardize_kwargs(data: dict) -> dict:
    return {"guidance_text": data["guidance_text"], "guidance_category_ids": data["guidance_categories"],
            "criteria_changes": [dict(c) for c in data["criteria_changes"]], "comment": data["comment"]}


@extend_schema_view(list=extend_schema(summary="Improvement items (KVP board)"),
                    retrieve=extend_schema(summary="One improvement item with its links and trail"))
class ImprovementViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = s.ImprovementSerializer
    lookup_value_regex = ID_PATTERN
    filterset_fields = ["state", "origin", "priority", "owner"]
    search_fields = ["title", "description"]
    ordering_fields = ["created_at", "due_date", "priority", "state"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return improvement_list(user=self.request.user)

    def is_visible(self, pk: int) -> bool:
        return improvement_is_visible(user=self.request.user, item_id=pk)

    def not_found(self, pk) -> NotFound:
        return NotFound(_("Improvement item %(id)s does not exist.") % {"id": pk})

    def _detail(self, item_id: int, status_code: int = status.HTTP_200_OK) -> Response:
        item = improvement_detail(user=self.request.user, item_id=item_id)
        if item is None:
            raise self.not_found(item_id)
        return Response(s.ImprovementDetailSerializer(item).data, status=status_code)

    def list(self, request):
        return self._page(self.get_queryset(), s.ImprovementSerializer)

    def retrieve(self, request, pk=None):
        return self._detail(int(pk))

    @extend_schema(request=s.ProposeSerializer, responses={201: s.ImprovementDetailSerializer},
                   summary="Propose an improvement")
    def create(self, request):
        data = validated(s.ProposeSerializer, request.data)
        item = improvements.improvement_propose(
            user=request.user, title=data["title"], description=data["description"],
            category_ids=data["categories"], gate_definition_ids=data["gate_definitions"],
            feedback_ids=data["feedback"])
        return self._detail(item.pk, status.HTTP_201_CREATED)

    accept = _item_action(improvements.improvement_accept, s.CommentSerializer, "Accept a proposal (managers)")
    reject = _item_action(improvements.improvement_reject, s.CommentSerializer, "Reject, with the reasons (managers)")
    plan = _item_action(improvements.improvement_plan, s.PlanSerializer,
                        "Plan: owner, priority, schedule, budget, one or more SMART targets (managers)")
    start = _item_action(improvements.improvement_start, s.CommentSerializer, "Start the work (manager or owner)")
    check = _item_action(improvements.improvement_check, s.CheckSerializer,
                         "Check: the product measures each target; values typed by hand beside (manager or owner)")
    rework = _item_action(improvements.improvement_rework, s.CommentSerializer,
                          "The check fell short: back to in progress (manager or owner)")
    standardize = _item_action(improvements.improvement_standardize, s.StandardizeSerializer,
                               "Standardize: publish guidance and/or changed gate criteria (managers)",
                               build=_standardize_kwargs)
    abandon = _item_action(improvements.improvement_abandon, s.CommentSerializer, "Abandon, with the reasons (managers)")

    @extend_schema(parameters=[s.BaselineQuerySerializer], responses=s.BaselineSerializer,
                   summary="A proposed baseline: what the product measures for a target today")
    @action(detail=True, methods=["get"], filterset_fields=[], search_fields=[], ordering_fields=[])
    def baseline(self, request, pk=None):
        item = improvement_detail(user=request.user, item_id=int(pk))
        if item is None:
            raise NotFound(_("Improvement item %(id)s does not exist.") % {"id": pk})
        query = s.BaselineQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        scope = query.scope(data, tuple(c.pk for c in item.categories.all()))
        measured = improvement_baseline(measure=data["measure"], metric=data["metric"], scope=scope,
                                        window_days=data["window_days"], until=data["until"])
        return Response(s.BaselineSerializer({**measured.__dict__, "metric": data["metric"],
                                              "categories": list(scope.category_ids)}).data)


class GuidanceViewSet(ApiMixin, viewsets.GenericViewSet):
    """Guidance is published by standardizing an improvement (or in the admin); here a manager retires
    or supersedes it, with the reason."""

    serializer_class = s.GuidanceSerializer
    lookup_value_regex = ID_PATTERN

    def get_queryset(self):
        return guidance_list()

    @extend_schema(request=s.GuidanceRetireSerializer, responses=s.GuidanceSerializer,
                   summary="Retire guidance, with the reason (managers)")
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        data = validated(s.GuidanceRetireSerializer, request.data)
        guidance = guidance_retire(user=request.user, guidance_id=int(pk), reason=data["reason"])
        return Response(s.GuidanceSerializer(guidance).data)

    @extend_schema(request=s.GuidanceSupersedeSerializer, responses={201: s.GuidanceSerializer},
                   summary="Supersede guidance by a new text on the same category, with the reason (managers)")
    @action(detail=True, methods=["post"])
    def supersede(self, request, pk=None):
        data = validated(s.GuidanceSupersedeSerializer, request.data)
        new = guidance_supersede(user=request.user, guidance_id=int(pk), text=data["text"], reason=data["reason"])
        return Response(s.GuidanceSerializer(new).data, status=status.HTTP_201_CREATED)


class CategoryRecordView(ApiMixin, APIView):
    @extend_schema(responses=s.CategoryRecordSerializer, parameters=[s.RecordQuerySerializer],
                   summary="A category's guidance and live record: kept/broken, gate lead times, top reasons; "
                           "with ?metric= (and &target=) the evidence of what it delivered on a metric")
    def get(self, request, pk: str):
        query = validated(s.RecordQuerySerializer, request.query_params.dict())
        record = category_record(category_id=int(pk))
        if not record:
            raise NotFound(_("Category %(id)s does not exist.") % {"id": pk})
        if "metric" in query:
            record["evidence"] = metric_evidence(category=record["category"], metric=query["metric"],
                                                 target=query.get("target"), window_days=query.get("window_days"),
                                                 until=query.get("until"))
        return Response(s.CategoryRecordSerializer(record).data)

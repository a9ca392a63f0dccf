"""Outcomes of conversations and the results of context experiments."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from enrichment.api import services
from enrichment.api.base import ApiView, errors_schema
from enrichment.api.permissions import HasFullScope
from enrichment.api.serializers.experiments import OutcomeRecordedSerializer, OutcomeSerializer, ResultsSerializer

TAG = ["experiments"]


class OutcomesView(ApiView):
    @extend_schema(
        operation_id="outcomes_record",
        summary="Record how a conversation ended",
        description=(
            "Against the context served (`context_id`, from the context's JSON or the `X-Context-Id` header of a "
            "prompt) or the conversation's `ticket_id`, or both: resolved, escalated, reopened, CSAT, handle time, "
            "and your own rating of the context. Idempotent by `key`: 201 the first time, 200 with `created: false` "
            "after. An unknown `context_id` is 404 `context_not_found`; an unknown ticket 404 `customer_not_found`. "
            "Ticket fields that already say how it went (CSAT, solved, reopened) are joined in the results without "
            "being reported."
        ),
        tags=TAG,
        request=OutcomeSerializer,
        responses={201: OutcomeRecordedSerializer, 200: OutcomeRecordedSerializer, **errors_schema(400, 401, 404, 413, 415, 429)},
    )
    def post(self, request) -> Response:
        data = self.body(OutcomeSerializer)
        recorded = services.outcome_report(recorded_by=request.auth.name, **data)
        body = {"key": recorded.key, "created": recorded.created}
        return Response(body, status=status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK)


class ExperimentResultsView(ApiView):
    permission_classes = [HasFullScope]

    @extend_schema(
        operation_id="experiment_results",
        summary="How each context strategy of an experiment did",
        description=(
            "Per strategy: the conversations, each outcome's rate or mean with a 95% interval, the difference "
            "against the control with a fixed-sample and an always-valid 95% interval, and a verdict in plain "
            "words that calls no winner before every strategy has the experiment's minimum sample, and only when "
            "the always-valid interval excludes zero (so looking every day is safe). Needs the `full` scope."
        ),
        tags=TAG,
        parameters=[OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH, description="The experiment's name.")],
        responses={200: ResultsSerializer, **errors_schema(400, 401, 403, 404, 429)},
    )
    def get(self, request, name: str) -> Response:
        self.query()
        return Response(services.experiment_results_get(name=name))

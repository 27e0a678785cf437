from rest_framework import generics

from events.models import Event
from events.permissions import IsCreatorOrReadOnly
from events.serializers import EventSerializer


class EventListCreateView(generics.ListCreateAPIView):
    queryset = Event.objects.all()
    serializer_class = EventSerializer
    permission_classes = (IsCreatorOrReadOnly,)

    def perform_create(self, serializer):
        serializer.save(creator=self.request.user)


class EventDetailView(generics.RetrieveAPIView):
    queryset = Event.objects.all()
    serializer_class = EventSerializer

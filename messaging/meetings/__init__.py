"""Round-table meetings: the services (writes), selectors (reads) and filters of the meetings part
of ``messaging``. The models live in ``messaging.models`` with the app's other models; this package
keeps the notification and comment modules of the app short and the meetings in one place."""

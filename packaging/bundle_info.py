"""What the bundle declares to macOS (Info.plist) so Finder opens `.gic` files with it.

Kept apart from the spec file so a test can check it without PyInstaller or a Mac.
"""
from __future__ import annotations

BUNDLE_ID = "org.gic.viewer"
GIC_UTI = "org.gic.image"
MIME_TYPE = "application/x-gic"


def info_plist(version: str) -> dict:
    """Info.plist entries: the exported .gic type and the document types the viewer opens."""
    return {
        "CFBundleName": "gic viewer",
        "CFBundleDisplayName": "gic viewer",
        "CFBundleIdentifier": BUNDLE_ID,
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "NSHighResolutionCapable": True,
        "LSMinimumSystemVersion": "11.0",
        "UTExportedTypeDeclarations": [{
            "UTTypeIdentifier": GIC_UTI,
            "UTTypeDescription": "gic progressive image",
            "UTTypeConformsTo": ["public.image", "public.data"],
            "UTTypeTagSpecification": {
                "public.filename-extension": ["gic"],
                "public.mime-type": [MIME_TYPE],
            },
        }],
        "CFBundleDocumentTypes": [
            {
                "CFBundleTypeName": "gic progressive image",
                "CFBundleTypeRole": "Editor",  # the viewer re-encodes and paints ROIs
                "LSHandlerRank": "Owner",
                "LSItemContentTypes": [GIC_UTI],
                "CFBundleTypeExtensions": ["gic"],
                "CFBundleTypeMIMETypes": [MIME_TYPE],
            },
            {
                "CFBundleTypeName": "Image",
                "CFBundleTypeRole": "Viewer",
                "LSHandlerRank": "Alternate",
                "LSItemContentTypes": ["public.png", "public.jpeg", "org.webmproject.webp"],
            },
        ],
    }

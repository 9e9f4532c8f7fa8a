//! A response body that holds a slot until it has been sent or dropped.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::keyed::KeyedPermit;

pin_project! {
    /// `inner`, holding `permit` until the body is dropped (sent, or the client went away).
    pub(crate) struct PermitBody {
        #[pin]
        inner: Body,
        _permit: KeyedPermit,
    }
}

impl PermitBody {
    pub(crate) fn new(inner: Body, permit: KeyedPermit) -> Self {
        PermitBody {
            inner,
            _permit: permit,
        }
    }
}

impl http_body::Body for PermitBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

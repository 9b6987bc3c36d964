//! The one catch-all axum handler every fake runs: read the whole request,
//! record it, let the fake refuse it or apply an injected fault, hand it to
//! the fake's handler, and answer (or drop the connection).
//!
//! Routing is the fake's, done by hand rather than with axum's router, so
//! that every request goes through the same recording and refusal path.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use tokio::net::TcpListener;

use crate::{Log, RecordedRequest, Req, Resp, lock};

/// What happens to one request before its handler runs: an answer that
/// comes first (a refusal of the route, an injected status), or what an
/// injected fault does to the exchange.
#[derive(Debug)]
pub enum Effect {
    /// Answer this, without handling the request.
    Answer(Resp),
    /// Wait this long, then handle the request normally (timeouts).
    Slow(Duration),
    /// Close the connection without an answer and without handling the
    /// request (recorded with status 0): nothing happened.
    DropConnection,
    /// Handle the request, then close the connection without an answer
    /// (status 0): the uncertain outcome.
    DropAfterHandling,
}

/// One fake service as the server loop drives it: its routing, its state,
/// its answers to what the loop meets before the handler, and the handler.
pub trait Service: Send + Sync + 'static {
    /// Everything the fake remembers, behind one mutex.
    type State: Send + 'static;
    /// Where a request goes (operation and path parameters, or a refusal).
    type Route: Send + 'static;
    /// What requests are recorded and counted by.
    type Op: Clone + Send + 'static;

    /// Bodies larger than this are refused with [`Service::too_large`]
    /// before anything else.
    const MAX_BODY: usize;
    /// Handle each request in a task of its own, so that a request whose
    /// client gave up (a timeout during a slow fault) is still carried out,
    /// as on a real server.
    const DETACHED: bool = false;

    /// The request log inside the state.
    fn log(state: &mut Self::State) -> &mut Log<Self::Op>;
    /// Route a request.
    fn route(&self, req: &Req) -> Self::Route;
    /// What the request is recorded as.
    fn op(route: &Self::Route) -> Option<Self::Op>;
    /// The answer to a body over [`Service::MAX_BODY`].
    fn too_large(&self) -> Resp;
    /// The answer when the handler panicked (only [`Service::DETACHED`]
    /// fakes can answer then).
    fn crashed(&self) -> Resp {
        Resp::empty(500)
    }
    /// Before the handler: a refusal of the request, or the effect of the
    /// next fault injected for its route (drawn from the state's queue).
    fn before(&self, state: &mut Self::State, route: &Self::Route, req: &Req) -> Option<Effect>;
    /// Handle the request. Locks `state` as it needs, never across an
    /// `.await`.
    fn handle(
        &self,
        state: &Mutex<Self::State>,
        route: Self::Route,
        req: &Req,
    ) -> impl Future<Output = Resp> + Send;
}

/// Bind an ephemeral port of 127.0.0.1, where every fake listens.
pub async fn listen() -> (TcpListener, u16) {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("binding 127.0.0.1:0 must succeed");
    let port = listener.local_addr().expect("bound address").port();
    (listener, port)
}

/// Serve `listener` in the background until the runtime stops.
pub fn serve<S: Service>(listener: TcpListener, state: Arc<Mutex<S::State>>, service: S) {
    let server = Arc::new(Server { service, state });
    let router = Router::new().fallback(handle::<S>).with_state(server);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
}

struct Server<S: Service> {
    service: S,
    state: Arc<Mutex<S::State>>,
}

/// When the answer leaves, once the request was handled.
enum Delivery {
    Now,
    Never,
}

async fn handle<S: Service>(
    AxumState(server): AxumState<Arc<Server<S>>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let (body, body_ok) = match axum::body::to_bytes(body, S::MAX_BODY).await {
        Ok(bytes) => (bytes.to_vec(), true),
        Err(_) => (Vec::new(), false),
    };
    let req = Req {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let route = server.service.route(&req);
    let index = S::log(&mut lock(&server.state)).record(RecordedRequest {
        op: S::op(&route),
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers: req.headers.clone(),
        body: req.body.clone(),
        status: 0,
    });
    let exchange = answer(server.clone(), route, req, body_ok, index);
    let (resp, delivery) = if S::DETACHED {
        match tokio::spawn(exchange).await {
            Ok(answered) => answered,
            Err(_) => (server.service.crashed(), Delivery::Now),
        }
    } else {
        exchange.await
    };
    if let Delivery::Never = delivery {
        // Unwinding ends this connection's task, so hyper closes the socket
        // without a response; `resume_unwind` skips the panic hook, so
        // nothing is printed. No lock is held here.
        std::panic::resume_unwind(Box::new("fake-http: connection dropped on purpose"));
    }
    into_response(resp)
}

/// The answer and when it leaves; the status is logged unless dropped.
async fn answer<S: Service>(
    server: Arc<Server<S>>,
    route: S::Route,
    req: Req,
    body_ok: bool,
    index: usize,
) -> (Resp, Delivery) {
    let (resp, delivery) = if body_ok {
        dispatch(&server, route, &req).await
    } else {
        (server.service.too_large(), Delivery::Now)
    };
    if let Delivery::Now = delivery {
        S::log(&mut lock(&server.state)).set_status(index, resp.status);
    }
    (resp, delivery)
}

async fn dispatch<S: Service>(server: &Server<S>, route: S::Route, req: &Req) -> (Resp, Delivery) {
    let effect = server.service.before(&mut lock(&server.state), &route, req);
    let mut delivery = Delivery::Now;
    match effect {
        None => {}
        Some(Effect::Answer(resp)) => return (resp, Delivery::Now),
        Some(Effect::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(Effect::DropConnection) => return (Resp::empty(0), Delivery::Never),
        Some(Effect::DropAfterHandling) => delivery = Delivery::Never,
    }
    let resp = server.service.handle(&server.state, route, req).await;
    (resp, delivery)
}

fn into_response(resp: Resp) -> Response {
    let mut response = Response::new(Body::from(resp.body));
    *response.status_mut() =
        StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in resp.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

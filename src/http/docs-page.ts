import { HEADER } from './headers.js';

/**
 * Browser code for /docs (Swagger UI), served as a theme script so that it is plain JavaScript
 * rather than functions serialised from compiled TypeScript. It lets a person use the page alone:
 *
 * - a successful `POST /user-authentication` from the page (or the call that ends its challenge:
 *   change-temporary-password, mfa-submit-code; or a refresh) authorizes the bearer scheme with the
 *   returned idToken (no copying a 250-character token into the Authorize dialog);
 * - the `vbasoftware-database`, `-client-id` and `-client-code` values sent once are remembered in
 *   localStorage and pre-filled as the parameters' examples in every operation, now and on later
 *   visits (the API key and token are kept by Swagger UI's own persistAuthorization).
 */
export const DOCS_PAGE_SCRIPT = String.raw`
(function () {
  var REMEMBERED = { database: '${HEADER.database}', clientId: '${HEADER.clientId}', clientCode: '${HEADER.clientCode}' };
  var PREFIX = 'vbapi-docs:';

  function recall(header) {
    try { return window.localStorage.getItem(PREFIX + header); } catch (e) { return null; }
  }

  /** The OpenAPI text with the remembered header values as the parameters' examples. */
  function withRemembered(text) {
    var doc = JSON.parse(text);
    var parameters = (doc.components && doc.components.parameters) || {};
    Object.keys(REMEMBERED).forEach(function (key) {
      var value = recall(REMEMBERED[key]);
      if (parameters[key] && value) parameters[key].example = value;
    });
    return JSON.stringify(doc);
  }

  window.vbapiDocs = {
    request: function (request) {
      var headers = request.headers || {};
      Object.keys(REMEMBERED).forEach(function (key) {
        var header = REMEMBERED[key];
        var value = headers[header];
        if (typeof value === 'string' && value.trim() !== '') {
          try { window.localStorage.setItem(PREFIX + header, value); } catch (e) { /* private mode: nothing remembered */ }
        }
      });
      return request;
    },
    response: function (response, getUi) {
      try {
        var path = new URL(response.url, window.location.href).pathname;
        if (/\/docs\/json$/.test(path) && typeof response.text === 'string') {
          response.text = withRemembered(response.text);
        } else if (/\/(user-authentication|mfa-submit-code|change-temporary-password|user-refresh-tokens)$/.test(path) && response.status === 200) {
          var body = response.obj || response.body || JSON.parse(response.text);
          var token = body && body.data && body.data.authenticationResult && body.data.authenticationResult.idToken;
          var ui = getUi();
          if (token && ui) {
            // As preauthorizeApiKey does, but kept across visits like the credentials typed into Authorize.
            var scheme = ui.specSelectors.specJson().getIn(['components', 'securitySchemes', 'bearerAuth']);
            if (ui.authActions.authorizeWithPersistOption && scheme) {
              ui.authActions.authorizeWithPersistOption({ bearerAuth: { name: 'bearerAuth', schema: scheme.toJS(), value: token } });
            } else {
              ui.preauthorizeApiKey('bearerAuth', token);
            }
            // Operations opened from now on start with the database and client just used.
            ui.specActions.updateSpec(withRemembered(ui.specSelectors.specStr()));
          }
        }
      } catch (error) {
        console.warn('vbapi docs:', error);
      }
      return response;
    },
  };
})();
`;

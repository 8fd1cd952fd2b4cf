//! Adding a token: scanned codes and links, the activation form, registration.

use super::*;

impl Model {
    /// A QR code was scanned or a link opened: an activation fills the form (a server the
    /// bank directory does not list is shown and asked about first); a 取引確認 challenge
    /// opens for confirmation. While the app is locked it waits for the unlock.
    pub(super) fn scanned(&mut self, uri: String) {
        self.scanning = false;
        let Some(vault) = &self.vault else { return };
        let locked = lock(vault).is_locked();
        if locked || matches!(self.state.screen, Screen::Unlock { .. }) {
            self.pending_link = Some(uri);
            self.notice(MessageKey::LinkAfterUnlock);
            return;
        }
        // Only the scheme and host: the core reads (and refuses) the rest.
        if uri.trim().to_lowercase().starts_with("softtoken://sign") {
            return self.reading(|m| m.open_transfer(&uri));
        }
        let target = match ActivationTarget::from_uri(&uri) {
            Ok(target) => target,
            Err(e) => {
                let error = Some(Failure::from(e).message());
                let on_form = matches!(self.state.screen, Screen::Activation { .. });
                let mut form = if on_form {
                    self.state.screen.clone()
                } else {
                    self.empty_form()
                };
                if let Screen::Activation {
                    error: e,
                    error_field,
                    ..
                } = &mut form
                {
                    *e = error;
                    *error_field = Some(InputField::ActivationUri);
                }
                return if on_form {
                    self.replace(form, false)
                } else {
                    self.push(form, None)
                };
            }
        };
        let view = ActivationView {
            server_url: target.server.as_str().to_string(),
            service_id: target.service.as_str().to_string(),
            user_id: target.user.as_str().to_string(),
        };
        let check = match &self.config.banks {
            Some(banks) => banks
                .check_server(&view.service_id, &view.server_url)
                .unwrap_or_else(|_| ServerCheck::Unknown {
                    host: host_of(&target.server),
                }),
            None => ServerCheck::Unknown {
                host: host_of(&target.server),
            },
        };
        let next = match check {
            ServerCheck::Known(_) => self.form_for(view),
            ServerCheck::Unknown { host } => Screen::ConfirmServer { target: view, host },
        };
        if matches!(
            self.state.screen,
            Screen::Activation { .. } | Screen::ConfirmServer { .. }
        ) {
            self.replace(next, false);
        } else {
            self.push(next, None);
        }
    }

    pub(super) fn submit_activation(&mut self, service_id: &str, user_id: &str, password: &str) {
        let Screen::Activation {
            scanned_server,
            banks,
            ..
        } = self.state.screen.clone()
        else {
            return;
        };
        let (service_id, user_id) = (service_id.trim().to_string(), user_id.trim().to_string());
        let form = |error: Option<Message>, error_field: Option<InputField>| Screen::Activation {
            service_id: service_id.clone(),
            user_id: user_id.clone(),
            scanned_server: scanned_server.clone(),
            error,
            error_field,
            banks: banks.clone(),
        };
        let missing = if service_id.is_empty() {
            Some(InputField::ServiceId)
        } else if user_id.is_empty() {
            Some(InputField::UserId)
        } else if password.is_empty() {
            Some(InputField::StartPassword)
        } else {
            None
        };
        if missing.is_some() {
            let screen = form(Some(MessageKey::RequiredField.into()), missing);
            return self.replace(screen, false);
        }
        // A typed service ID reaches its bank's server through the directory; a scanned
        // form keeps the QR code's server; a single-bank build may set one server for all.
        let directory = self.config.banks.as_ref();
        let server = scanned_server
            .clone()
            .or_else(|| {
                directory
                    .and_then(|d| d.find(&service_id))
                    .map(|b| b.server_url.clone())
            })
            .or_else(|| self.config.activation_server.clone());
        let Some(server) = server else {
            let screen = if directory.is_some() {
                form(
                    Some(MessageKey::UnknownServiceId.into()),
                    Some(InputField::ServiceId),
                )
            } else {
                form(Some(MessageKey::NotConfigured.into()), None)
            };
            return self.replace(screen, false);
        };
        let typed = form(None, None);
        self.replace(typed, true);
        match self.activate(&server, &service_id, &user_id, password) {
            Ok(token) => {
                // The form is done with: back stays on the token list, not on a used form.
                match self.cards() {
                    Ok(cards) => self.back_stack = vec![Screen::Tokens { cards }],
                    Err(f) => return self.fail(f),
                }
                self.push(
                    Screen::ActivationDone { token },
                    Some(MessageKey::Activated),
                );
            }
            Err(f) => {
                let screen = form(Some(f.message()), f.field());
                self.replace(screen, false);
            }
        }
    }

    pub(super) fn activate(
        &mut self,
        server: &str,
        service_id: &str,
        user_id: &str,
        password: &str,
    ) -> Result<TokenSummary, Failure> {
        let target = ActivationTarget {
            server: ServerUrl::parse(server)?,
            service: ServiceId::new(service_id).map_err(|_| Failure::InvalidInput {
                field: Some(InputField::ServiceId),
            })?,
            user: UserId::new(user_id).map_err(|_| Failure::InvalidInput {
                field: Some(InputField::UserId),
            })?,
        };
        let vault = self.open_vault()?;
        let info =
            refresh::enroller(self.clock(), None)?.activate(Locked(&vault), &target, password)?;
        Ok(TokenSummary::from(&info))
    }

    pub(super) fn continue_after_activation(&mut self) -> Outcome {
        let Screen::ActivationDone { token } = &self.state.screen else {
            return Ok(());
        };
        let serial = token.serial.clone();
        match self.cards()?.into_iter().find(|c| c.token.serial == serial) {
            Some(card) => {
                self.back_stack.pop();
                self.push(
                    Screen::TokenDetail {
                        card,
                        first_use: Some(FirstUse::Activation),
                    },
                    None,
                );
            }
            None => self.show_tokens(None),
        }
        Ok(())
    }

    pub(super) fn start_registration(&mut self) {
        let (Some(server), Some(service)) = (
            self.config.registration_server.clone(),
            self.config.registration_service_id.clone(),
        ) else {
            return self.notice(MessageKey::NotConfigured);
        };
        self.busy();
        let provisioned = (|| {
            let server = ServerUrl::parse(&server)?;
            let service =
                ServiceId::new(service).map_err(|_| Failure::InvalidInput { field: None })?;
            let vault = self.open_vault()?;
            let info = refresh::enroller(self.clock(), None)?.provision(
                Locked(&vault),
                &server,
                &service,
            )?;
            Ok::<_, Failure>(TokenSummary::from(&info))
        })();
        let result = provisioned.and_then(|token| {
            let cards = self.cards()?;
            let card = cards
                .iter()
                .find(|c| c.token.serial == token.serial)
                .cloned();
            self.back_stack = vec![Screen::Tokens { cards }];
            match card {
                Some(card) => self.push(
                    Screen::TokenDetail {
                        card,
                        first_use: Some(FirstUse::Registration),
                    },
                    Some(MessageKey::Registered),
                ),
                None => self.show_tokens(None),
            }
            Ok(())
        });
        if let Err(f) = result {
            self.publish_with(|s| {
                s.busy = false;
                s.notice = Some(f.message());
            });
        }
    }
}

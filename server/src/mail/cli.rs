//! `softtoken-server service mail`: sets a service's activation e-mail.

use std::path::Path;

use crate::commands::{COMMAND_LINE, CommandResult, open_context};
use crate::config::ServiceMailArgs;
use softtoken_service::clock::{Clock, SystemClock};
use softtoken_service::queries;
use softtoken_store::{MailTemplate, ServiceMail};

use softtoken_service::mail::template::{Language, MAX_BODY_BYTES, Template, Values};
use softtoken_service::mail::{check_download_url, template_for};

/// Checks the options, stores the settings and prints what the mails will say.
pub async fn service_mail(args: ServiceMailArgs) -> CommandResult {
    let settings = settings_from(&args)?;
    let ctx = open_context(&args.storage).await?;
    let Some(service) = queries::service(&ctx, &args.id).await? else {
        return Err(format!("no service '{}'", args.id).into());
    };
    // The settings' own time stamps their audit row: one instant for both.
    softtoken_service::actions::set_service_mail(
        &*ctx.store,
        &settings,
        COMMAND_LINE,
        settings.updated_at,
    )
    .await?;
    println!(
        "Activation e-mail of service '{}' ({}): download URL {}",
        service.id, service.name, settings.download_url
    );
    for language in Language::ALL {
        let own = match language {
            Language::Ja => settings.ja.is_some(),
            Language::En => settings.en.is_some(),
        };
        let (subject, _) = template_for(&settings, language).render(&Values {
            service_id: service.id.as_str(),
            service_name: &service.name,
            user_id: "USER-ID",
            download_url: &settings.download_url,
            activation_link: "softtoken://activate?…",
            expires_at_ms: SystemClock.now_ms(),
            language,
        });
        println!(
            "  {language} ({}): {subject}",
            if own { "own template" } else { "built-in" }
        );
    }
    Ok(())
}

/// The settings the options describe, every template checked.
pub fn settings_from(args: &ServiceMailArgs) -> Result<ServiceMail, String> {
    let download_url = check_download_url(&args.download_url)
        .map_err(|e| format!("--download-url {}: {e}", args.download_url))?;
    let ja = own_template(
        Language::Ja,
        args.subject_ja.as_deref(),
        args.body_ja_file.as_deref(),
    )?;
    let en = own_template(
        Language::En,
        args.subject_en.as_deref(),
        args.body_en_file.as_deref(),
    )?;
    Ok(ServiceMail {
        service_id: args.id.clone(),
        download_url,
        ja,
        en,
        updated_at: SystemClock.now_ms(),
    })
}

/// A language's own template from its options; the built-in subject or body fills in the
/// one not given. `None` if neither is.
fn own_template(
    language: Language,
    subject: Option<&str>,
    body_file: Option<&Path>,
) -> Result<Option<MailTemplate>, String> {
    if subject.is_none() && body_file.is_none() {
        return Ok(None);
    }
    let builtin = Template::builtin(language);
    let body = match body_file {
        Some(path) => read_body(path, language)?,
        None => builtin.body().to_owned(),
    };
    let subject = subject.unwrap_or(builtin.subject());
    let checked = Template::new(subject, &body).map_err(|e| match body_file {
        Some(path) => format!(
            "--subject-{language} / --body-{language}-file {}: {e}",
            path.display()
        ),
        None => format!("--subject-{language}: {e}"),
    })?;
    Ok(Some(MailTemplate {
        subject: checked.subject().to_owned(),
        body: checked.body().to_owned(),
    }))
}

fn read_body(path: &Path, language: Language) -> Result<String, String> {
    let flag = format!("--body-{language}-file {}", path.display());
    let bytes = std::fs::read(path).map_err(|e| format!("{flag}: cannot read it ({e})"))?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(format!("{flag}: larger than {MAX_BODY_BYTES} bytes"));
    }
    String::from_utf8(bytes).map_err(|_| format!("{flag}: not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> Result<ServiceMail, String> {
        let mut argv = vec![
            "softtoken-server",
            "service",
            "mail",
            "--id",
            "shinkin",
            "--download-url",
            "https://apps.example/otp",
        ];
        argv.extend_from_slice(extra);
        let cli = crate::config::Cli::try_parse_from(argv).unwrap();
        let crate::config::Command::Service(crate::config::ServiceCommand::Mail(args)) =
            cli.command
        else {
            panic!("parsed as another command");
        };
        settings_from(&args)
    }

    #[test]
    fn options_become_settings() {
        let plain = args(&[]).unwrap();
        assert_eq!(plain.download_url, "https://apps.example/otp");
        assert_eq!((plain.ja, plain.en), (None, None));

        let dir = tempfile::tempdir().unwrap();
        let body = dir.path().join("en.txt");
        std::fs::write(
            &body,
            "ID {service_id}/{user_id}\r\nApp: {download_url}\r\n{activation_link}\r\n",
        )
        .unwrap();
        let own = args(&[
            "--subject-ja",
            "【{service_name}】ご案内",
            "--body-en-file",
            body.to_str().unwrap(),
        ])
        .unwrap();
        let ja = own.ja.unwrap();
        assert_eq!(ja.subject, "【{service_name}】ご案内");
        assert_eq!(ja.body, Template::builtin(Language::Ja).body());
        let en = own.en.unwrap();
        assert_eq!(en.subject, Template::builtin(Language::En).subject());
        assert_eq!(
            en.body,
            "ID {service_id}/{user_id}\nApp: {download_url}\n{activation_link}\n"
        );
    }

    #[test]
    fn bad_options_are_refused_naming_them() {
        let e = args(&["--subject-en", "Your {password}"]).unwrap_err();
        assert!(
            e.starts_with("--subject-en: unknown placeholder {password}"),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        let body = dir.path().join("ja.txt");
        std::fs::write(&body, "{service_id} {user_id}").unwrap();
        let e = args(&["--body-ja-file", body.to_str().unwrap()]).unwrap_err();
        assert!(e.contains("--body-ja-file"), "{e}");
        assert!(e.contains("{download_url}"), "{e}");
        let missing = dir.path().join("none.txt");
        let e = args(&["--body-en-file", missing.to_str().unwrap()]).unwrap_err();
        assert!(e.contains("cannot read it"), "{e}");
        let cli = crate::config::Cli::try_parse_from([
            "softtoken-server",
            "service",
            "mail",
            "--id",
            "shinkin",
            "--download-url",
            "ftp://apps.example",
        ])
        .unwrap();
        let crate::config::Command::Service(crate::config::ServiceCommand::Mail(a)) = cli.command
        else {
            panic!("parsed as another command");
        };
        assert!(
            settings_from(&a)
                .unwrap_err()
                .starts_with("--download-url ftp://apps.example")
        );
    }
}
